/**
 * The realtime client: one WebSocket per tab to /ws/, shared by every page (see docs/realtime.md).
 *
 *   const stop = subscribe("mindmap.7", onEvent, {
 *     since: snapshot.version,          // mind maps: the version the page shows; events above it follow
 *     resync: async () => (await reload()).version,   // the page refetches its snapshot, answers its version
 *     onPresence: (members) => …,       // [{user_id, nickname, connections}]
 *     onMessage: (frame) => …,          // ephemeral: {type, from: {user_id, nickname, connection}, data}
 *     onEnd: (reason) => …,             // "membership_ended" | "deleted" | "forbidden"
 *   });
 *   publish("mindmap.7", "cursor", {x, y});   // ephemeral; dropped while the socket is down
 *   onStateChange((state) => …);      // "connecting" | "open" | "reconnecting" | "offline" | "expired"
 *
 * Events of a mind map reach onEvent in version order, each once: the server replays what the socket
 * missed from its last version, and says "resync" when it cannot — then `resync()` runs, events that
 * arrive meanwhile wait, and only those above the new version are applied. Team channels have no
 * versions: onEvent gets every event.
 *
 * Reconnecting: exponential backoff with full jitter (random 0…min(30 s, 0.5 s·2^n)); a close with 1012
 * (the instance restarts or lost its broker) reconnects almost at once, 1013 and 4008 back off, 4001
 * (session expired) refreshes the session first. The browser going offline closes the socket; coming
 * back online reconnects at once.
 */

import { refreshSession } from "./api.js";

const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30_000;
const RESTART_JITTER_MS = 1_000;  // 1012: many clients reconnect at once; spread them over a second
const PING_EVERY_MS = 25_000;  // keeps idle proxies from closing the socket
const PONG_WITHIN_MS = 10_000;
const LINGER_MS = 2_000;  // keep the socket a moment after the last unsubscribe (page changes)
const CLOSE = { RESTART: 1012, TRY_LATER: 1013, EXPIRED: 4001, TOO_SLOW: 4008 };

const subscriptions = new Map();  // channel → Subscription
const stateListeners = new Set();
let socket = null;
let state = "offline";
let attempt = 0;
let retryTimer = null;
let pingTimer = null;
let pongTimer = null;
let lingerTimer = null;
let opened = false;
let refreshedThisStreak = false;

class Subscription {
  constructor(channel, onEvent, options) {
    this.channel = channel;
    this.onEvent = onEvent;
    this.options = options;
    this.versioned = channel.startsWith("mindmap.");
    this.version = options.since ?? null;
    this.resyncing = null;
    this.held = [];
  }

  frame() {
    const frame = { op: "subscribe", channel: this.channel };
    if (this.versioned && this.version !== null) frame.since = this.version;
    return frame;
  }

  event(frame) {
    if (!this.versioned) return this.onEvent(frame);
    if (this.resyncing) return this.held.push(frame);
    if (this.version !== null && frame.version <= this.version) return undefined;
    this.version = frame.version;
    return this.onEvent(frame);
  }

  async resync() {
    if (this.resyncing || !this.options.resync) return;
    this.resyncing = (async () => {
      for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
        try {
          return await this.options.resync();
        } catch (err) {
          console.warn("realtime: snapshot refetch failed, retrying", err);
          await new Promise((resolve) => setTimeout(resolve, delay));
          if (subscriptions.get(this.channel) !== this) return null;
        }
      }
    })();
    const version = await this.resyncing;
    this.resyncing = null;
    if (version !== null && version !== undefined) this.version = version;
    const held = this.held.sort((a, b) => a.version - b.version);
    this.held = [];
    for (const frame of held) this.event(frame);
  }
}

function setState(next) {
  if (state === next) return;
  state = next;
  for (const listener of stateListeners) listener(state);
}

function send(frame) {
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

function socketUrl() {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws/`;
}

function connect() {
  clearTimeout(retryTimer);
  retryTimer = null;
  if (socket || !subscriptions.size) return;
  if (!navigator.onLine) {
    setState("offline");
    return;
  }
  setState(attempt ? "reconnecting" : "connecting");
  opened = false;
  const ws = new WebSocket(socketUrl());
  socket = ws;
  ws.addEventListener("open", () => {
    opened = true;
    attempt = 0;
    refreshedThisStreak = false;
    setState("open");
    for (const sub of subscriptions.values()) send(sub.frame());
    schedulePing();
  });
  ws.addEventListener("message", (message) => onFrame(message.data));
  ws.addEventListener("close", (event) => {
    if (socket !== ws) return;
    socket = null;
    clearTimeout(pingTimer);
    clearTimeout(pongTimer);
    afterClose(event.code, opened);
  });
}

async function afterClose(code, wasOpen) {
  if (!subscriptions.size) {
    setState("offline");
    return;
  }
  if (!navigator.onLine) {
    setState("offline");
    return;
  }
  setState("reconnecting");
  if (code === CLOSE.EXPIRED || (!wasOpen && !refreshedThisStreak)) {
    // a refused handshake is most often an access token that ran out: refresh once per streak
    refreshedThisStreak = true;
    if (!(await refreshSession())) {
      setState("expired");
      return;
    }
    if (code === CLOSE.EXPIRED) {
      connect();
      return;
    }
  }
  attempt += 1;
  const delay = code === CLOSE.RESTART
    ? Math.random() * RESTART_JITTER_MS
    : Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
  retryTimer = setTimeout(connect, delay);
}

function schedulePing() {
  clearTimeout(pingTimer);
  pingTimer = setTimeout(() => {
    if (!send({ op: "ping" })) return;
    pongTimer = setTimeout(() => socket?.close(), PONG_WITHIN_MS);
  }, PING_EVERY_MS);
}

function onFrame(text) {
  let frame;
  try {
    frame = JSON.parse(text);
  } catch {
    return;
  }
  clearTimeout(pongTimer);
  schedulePing();
  const sub = frame.channel ? subscriptions.get(frame.channel) : null;
  switch (frame.op) {
    case "event":
      if (sub) sub.event(frame);
      break;
    case "message":
      if (sub && sub.options.onMessage) sub.options.onMessage(frame);
      break;
    case "presence":
      if (sub && sub.options.onPresence) sub.options.onPresence(frame.members);
      break;
    case "subscribed":
      if (sub && sub.versioned && sub.version === null) sub.version = frame.version;
      break;
    case "resync":
      if (sub) sub.resync();
      break;
    case "unsubscribed":
      if (sub && frame.reason !== "requested") end(sub, frame.reason);
      break;
    case "error":
      if (sub && frame.code === "forbidden") end(sub, "forbidden");
      else if (sub && frame.code === "unavailable") setTimeout(() => subscriptions.get(sub.channel) === sub && send(sub.frame()), 2_000);
      else if (frame.code !== "rate_limited") console.warn("realtime:", frame.code, frame.message);
      break;
    default:
      break;
  }
}

function end(sub, reason) {
  subscriptions.delete(sub.channel);
  if (sub.options.onEnd) sub.options.onEnd(reason);
  lingerThenClose();
}

function lingerThenClose() {
  clearTimeout(lingerTimer);
  if (subscriptions.size) return;
  lingerTimer = setTimeout(() => {
    if (subscriptions.size || !socket) return;
    const ws = socket;
    socket = null;
    ws.close(1000);
    setState("offline");
  }, LINGER_MS);
}

/** Listen to a channel; returns the function that stops listening. */
export function subscribe(channel, onEvent, options = {}) {
  const sub = new Subscription(channel, onEvent, options);
  subscriptions.set(channel, sub);
  clearTimeout(lingerTimer);
  if (!send(sub.frame())) connect();
  return () => {
    if (subscriptions.get(channel) !== sub) return;
    subscriptions.delete(channel);
    send({ op: "unsubscribe", channel });
    lingerThenClose();
  };
}

/** Send an ephemeral message (cursor, drag preview) to the channel's other subscribers. */
export function publish(channel, type, data) {
  return subscriptions.has(channel) && send({ op: "publish", channel, type, data });
}

/** The connection state now. */
export function connectionState() {
  return state;
}

/** Call listener(state) on every change of the connection state; returns the function that stops it. */
export function onStateChange(listener) {
  stateListeners.add(listener);
  return () => stateListeners.delete(listener);
}

/** Reconnect now (the "reconnect" button; after the session was renewed). */
export function reconnect() {
  attempt = 0;
  if (socket) {
    socket.close(1000);
    socket = null;
  }
  connect();
}

window.addEventListener("offline", () => {
  if (socket) {
    const ws = socket;
    socket = null;
    ws.close(1000);
  }
  clearTimeout(retryTimer);
  setState("offline");
});
window.addEventListener("online", () => {
  attempt = 0;
  connect();
});
window.addEventListener("teammoa:refreshed", () => {
  if (state === "expired") reconnect();
});
