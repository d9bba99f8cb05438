/**
 * A mind map as this tab knows it: the snapshot (GET …/mindmaps/{m}/), then every event above its
 * version, applied in order (realtime.js guarantees the order and drops repeats). `apply` answers what
 * changed so the canvas redraws only that.
 */

export const CANVAS_SIZE = 10_000;  // positions are 0…10000 on both axes (the server clamps them)

export class MindMapModel {
  constructor(snapshot, me) {
    this.me = me;
    this.load(snapshot);
  }

  load(snapshot) {
    this.id = snapshot.id;
    this.title = snapshot.title;
    this.version = snapshot.version;
    this.canDelete = snapshot.can_delete;
    this.nodes = new Map(snapshot.nodes.map((node) => [node.id, { ...node }]));
    this.links = new Map(snapshot.links.map((link) => [link.id, { ...link }]));
  }

  /** Apply one event frame; returns {kind: "node"|"link"|"map", id, removed?} or null. */
  apply(frame) {
    const { type, data } = frame;
    if (typeof frame.version === "number") this.version = Math.max(this.version, frame.version);
    switch (type) {
      case "node.created":
      case "node.updated": {
        const voted = this.nodes.get(data.id)?.voted ?? false;
        this.nodes.set(data.id, { ...data, voted });
        return { kind: "node", id: data.id };
      }
      case "node.deleted":
        this.nodes.delete(data.id);
        for (const linkId of data.link_ids || []) this.links.delete(linkId);
        return { kind: "node", id: data.id, removed: true, linkIds: data.link_ids || [] };
      case "link.created":
        this.links.set(data.id, { id: data.id, source_id: data.source_id, target_id: data.target_id });
        return { kind: "link", id: data.id };
      case "link.deleted":
        this.links.delete(data.id);
        return { kind: "link", id: data.id, removed: true };
      case "comment.created":
      case "comment.deleted":
        return this.patchNode(data.node_id, { comment_count: data.comment_count }, "comments");
      case "comment.updated":
        return { kind: "node", id: data.node_id, comments: true };
      case "vote.changed": {
        const change = { vote_count: data.vote_count };
        if (data.user_id === this.me) change.voted = data.voted;
        return this.patchNode(data.node_id, change);
      }
      case "mindmap.deleted":
        return { kind: "map", removed: true };
      default:
        return null;
    }
  }

  patchNode(id, change, aspect = null) {
    const node = this.nodes.get(id);
    if (!node) return null;
    Object.assign(node, change);
    return { kind: "node", id, comments: aspect === "comments" };
  }

  /** Store a node as the API returned it after this tab's own write (it may be newer than the events). */
  remember(node) {
    const known = this.nodes.get(node.id);
    if (!known || known.version <= node.version) {
      const { map_version: _ignored, ...fields } = node;
      this.nodes.set(node.id, { ...known, ...fields });
    }
  }

  linkBetween(a, b) {
    for (const link of this.links.values()) {
      if ((link.source_id === a && link.target_id === b) || (link.source_id === b && link.target_id === a)) return link;
    }
    return null;
  }
}
