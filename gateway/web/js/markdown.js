/**
 * Markdown helpers for the share board, all building DOM nodes (never HTML strings):
 *
 *   linkify(root)            bare http(s) URLs in a rendered post's text become links (not inside a, code, pre)
 *   preview(source) → node   a live preview of what the editor holds: headings, paragraphs, lists, quotes,
 *                            code blocks, **bold**, *italic*, `code`, [links](https://…), ![images](https://…)
 *                            and bare URLs. The stored post is rendered and sanitised by the teams service;
 *                            this is only the writer's preview, so it covers the common syntax, not all of it.
 *   markdownToolbar(textarea, labels) → node   buttons that wrap the selection (bold, italic, heading, list,
 *                            link, code) — with Ctrl/⌘+B and Ctrl/⌘+I on the textarea
 */

import { el } from "./dom.js";

const URL_RE = /\bhttps?:\/\/[^\s<>()"']+[^\s<>()"'.,;:!?]/g;
const SAFE_URL = /^(https?:|mailto:|\/)/i;

/** Turn bare URLs in text nodes into links (skips text inside a, code and pre). */
export function linkify(root) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) => (node.parentElement.closest("a, code, pre") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
  });
  const texts = [];
  while (walker.nextNode()) texts.push(walker.currentNode);
  for (const text of texts) {
    const value = text.nodeValue;
    URL_RE.lastIndex = 0;
    if (!URL_RE.test(value)) continue;
    URL_RE.lastIndex = 0;
    const parts = [];
    let last = 0;
    for (const match of value.matchAll(URL_RE)) {
      parts.push(value.slice(last, match.index), el("a", { href: match[0] }, match[0]));
      last = match.index + match[0].length;
    }
    parts.push(value.slice(last));
    text.replaceWith(...parts.filter((part) => part !== ""));
  }
}

/** Inline syntax of one line of text → nodes. */
function inline(text) {
  const out = [];
  const pattern = /(`[^`]+`)|(!\[[^\]]*\]\([^)\s]+\))|(\[[^\]]+\]\([^)\s]+\))|(\*\*[^*]+\*\*)|(\*[^*\s][^*]*\*|_[^_\s][^_]*_)/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    out.push(text.slice(last, match.index));
    const [token] = match;
    if (match[1]) out.push(el("code", {}, token.slice(1, -1)));
    else if (match[2] || match[3]) {
      const [, label, href] = /!?\[([^\]]*)\]\(([^)\s]+)\)/.exec(token);
      if (!SAFE_URL.test(href)) out.push(token);
      else if (match[2]) out.push(el("img", { src: href, alt: label, loading: "lazy" }));
      else out.push(el("a", { href }, label));
    } else if (match[4]) out.push(el("strong", {}, inline(token.slice(2, -2))));
    else out.push(el("em", {}, inline(token.slice(1, -1))));
    last = match.index + token.length;
  }
  out.push(text.slice(last));
  return out.filter((part) => part !== "");
}

/** A preview of Markdown source as DOM nodes (see the module comment for what it covers). */
export function preview(source) {
  const root = el("div", { class: "post-body markdown-preview" });
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (/^```/.test(line)) {
      const code = [];
      for (i += 1; i < lines.length && !/^```/.test(lines[i]); i += 1) code.push(lines[i]);
      i += 1;
      root.append(el("pre", {}, el("code", {}, code.join("\n"))));
    } else if (/^#{1,6}\s/.test(line)) {
      const level = Math.min(6, line.match(/^#+/)[0].length + 1);  // # is the post's h2: the title is its h1
      root.append(el(`h${level}`, {}, inline(line.replace(/^#+\s+/, ""))));
      i += 1;
    } else if (/^\s*([-*+]|\d+[.)])\s/.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const list = el(ordered ? "ol" : "ul");
      for (; i < lines.length && /^\s*([-*+]|\d+[.)])\s/.test(lines[i]); i += 1) {
        list.append(el("li", {}, inline(lines[i].replace(/^\s*([-*+]|\d+[.)])\s+/, ""))));
      }
      root.append(list);
    } else if (/^>\s?/.test(line)) {
      const quote = [];
      for (; i < lines.length && /^>\s?/.test(lines[i]); i += 1) quote.push(lines[i].replace(/^>\s?/, ""));
      root.append(el("blockquote", {}, el("p", {}, inline(quote.join(" ")))));
    } else if (!line.trim()) {
      i += 1;
    } else {
      const paragraph = [];
      for (; i < lines.length && lines[i].trim() && !/^(#{1,6}\s|```|>|\s*([-*+]|\d+[.)])\s)/.test(lines[i]); i += 1) {
        paragraph.push(lines[i]);
      }
      const nodes = [];
      paragraph.forEach((text, index) => nodes.push(...(index ? ["\n"] : []), ...inline(text)));
      root.append(el("p", {}, nodes));
    }
  }
  linkify(root);
  return root;
}

const ACTIONS = {
  bold: { wrap: ["**", "**"], key: "b" },
  italic: { wrap: ["*", "*"], key: "i" },
  heading: { line: "## " },
  list: { line: "- " },
  link: { wrap: ["[", "](https://)"] },
  code: { wrap: ["`", "`"] },
};

function apply(textarea, action) {
  const { selectionStart: start, selectionEnd: end, value } = textarea;
  const chosen = value.slice(start, end);
  let next;
  let caret;
  if (action.wrap) {
    const [before, after] = action.wrap;
    next = value.slice(0, start) + before + chosen + after + value.slice(end);
    caret = [start + before.length, start + before.length + chosen.length];
  } else {
    const lineStart = value.lastIndexOf("\n", start - 1) + 1;
    next = value.slice(0, lineStart) + action.line + value.slice(lineStart);
    caret = [start + action.line.length, end + action.line.length];
  }
  textarea.value = next;
  textarea.focus();
  textarea.setSelectionRange(...caret);
  textarea.dispatchEvent(new Event("input", { bubbles: true }));
}

/** Formatting buttons for a Markdown textarea. labels: {bold, italic, heading, list, link, code, toolbar}. */
export function markdownToolbar(textarea, labels) {
  const glyphs = { bold: "B", italic: "I", heading: "H", list: "•", link: "↗", code: "</>" };
  const toolbar = el("div", { class: "md-toolbar", role: "toolbar", "aria-label": labels.toolbar },
    Object.entries(ACTIONS).map(([name, action]) => el("button", {
      type: "button", class: `btn btn-ghost btn-sm md-${name}`, dataset: { format: name }, title: labels[name],
      "aria-label": labels[name], onclick: () => apply(textarea, action),
    }, glyphs[name])));
  textarea.addEventListener("keydown", (event) => {
    if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
    const found = Object.values(ACTIONS).find((action) => action.key === event.key.toLowerCase());
    if (found) {
      event.preventDefault();
      apply(textarea, found);
    }
  });
  return toolbar;
}
