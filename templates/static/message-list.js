// The room's messages: each shown once (by id), in seq order, user content as text only.
import { localPath } from "./api.js";

export class MessageList {
  /** Renders into `element`; `onReply(message)` runs when a message's Reply is pressed. */
  constructor(element, { me, onReply }) {
    this.element = element;
    this.me = me;
    this.onReply = onReply;
    this.byId = new Map();
    this.maxSeq = 0;
    this.lastId = null;
  }

  /** Adds `message` where its seq belongs; false when it is already shown. */
  add(message) {
    if (this.byId.has(message.id)) return false;
    const item = this.render(message);
    this.byId.set(message.id, item);
    const later = [...this.element.querySelectorAll("li.message")].find((other) => Number(other.dataset.seq) > message.seq);
    this.element.insertBefore(item, later || null);
    if (message.seq > this.maxSeq) {
      this.maxSeq = message.seq;
      this.lastId = message.id;
    }
    return true;
  }

  /** A membership notification, as its own line. */
  notice(text) {
    const item = document.createElement("li");
    item.className = "notice";
    item.textContent = text;
    this.element.append(item);
  }

  render(message) {
    const item = document.createElement("li");
    item.className = message.sender === this.me ? "message mine" : "message";
    item.dataset.messageId = message.id;
    item.dataset.seq = String(message.seq);
    if (message.is_reply) {
      const quote = document.createElement("blockquote");
      quote.className = "quote";
      quote.textContent = message.previous_message_content ?? "";
      item.append(quote);
    }
    const meta = document.createElement("span");
    meta.className = "meta";
    const name = document.createElement("strong");
    name.textContent = message.username;
    meta.append(name, ` · ${message.date} ${message.time}`);
    item.append(meta, this.body(message));
    const reply = document.createElement("button");
    reply.type = "button";
    reply.className = "reply";
    reply.textContent = "Reply";
    reply.addEventListener("click", () => this.onReply(message));
    item.append(reply);
    return item;
  }

  body(message) {
    const source = message.media_url ? localPath(message.media_url) : "";
    let content;
    if (message.message_format === "image") {
      content = document.createElement("img");
      content.alt = `image from ${message.username}`;
    } else if (message.message_format === "audio" || message.message_format === "video") {
      content = document.createElement(message.message_format);
      content.controls = true;
    } else {
      content = document.createElement("p");
      content.className = "text";
      content.textContent = message.text_content ?? "";
      return content;
    }
    content.className = "media";
    content.src = source;
    return content;
  }
}

/** What a message says, short, for "Replying to …". */
export function summary(message) {
  if (message.message_format !== "text") return message.message_format.toUpperCase();
  const text = message.text_content ?? "";
  return text.length > 80 ? text.slice(0, 80) + "…" : text;
}
