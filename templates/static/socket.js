// The room's WebSocket: reconnects with backoff, resumes with ?since=<last message id>,
// and re-sends every message whose echo (matched by client_id) has not come back yet,
// which the server stores once however often it is sent.
import { renew } from "./api.js";

const MAX_DELAY_MS = 15000;

/** A random id for a send, kept across retries. */
export function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export class ChatSocket {
  /**
   * `path` is the socket's path; `since()` the id of the last message shown (or null);
   * `onEvent(event)` gets each server event; `onState("open"|"reconnecting"|"closed", code)`.
   */
  constructor(path, { since, onEvent, onState }) {
    this.path = path;
    this.since = since;
    this.onEvent = onEvent;
    this.onState = onState;
    this.unacknowledged = new Map();
    this.failures = 0;
    this.socket = null;
    this.stopped = false;
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const last = this.since();
    const query = last ? "?since=" + encodeURIComponent(last) : "";
    const socket = new WebSocket(`${scheme}//${location.host}${this.path}${query}`);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.failures = 0;
      this.onState("open");
      for (const frame of this.unacknowledged.values()) socket.send(JSON.stringify(frame));
    });
    socket.addEventListener("message", (event) => {
      if (typeof event.data !== "string") return;
      let parsed;
      try { parsed = JSON.parse(event.data); } catch { return; }
      if (parsed.type === "chat.message" && parsed.client_id) this.unacknowledged.delete(parsed.client_id);
      this.onEvent(parsed);
    });
    socket.addEventListener("close", (event) => this.closed(event.code));
  }

  async closed(code) {
    if (this.stopped) return;
    // 4001: removed from the room; 1008: the session was revoked. Retrying cannot help.
    if (code === 4001 || code === 1008) {
      this.onState("closed", code);
      return;
    }
    this.onState("reconnecting", code);
    this.failures += 1;
    // A refused handshake looks like any drop: the access token may have expired.
    if (this.failures >= 2 && !(await renew()) && this.failures >= 4) {
      this.onState("closed", 1008);
      return;
    }
    const backoff = Math.min(MAX_DELAY_MS, 500 * 2 ** (this.failures - 1));
    setTimeout(() => this.connect(), backoff / 2 + Math.random() * (backoff / 2));
  }

  get open() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  /** Sends a message or reply frame with a `client_id`; retried on every reconnect until echoed. */
  sendMessage(frame) {
    const tracked = { ...frame, client_id: frame.client_id || newClientId() };
    this.unacknowledged.set(tracked.client_id, tracked);
    if (this.open) this.socket.send(JSON.stringify(tracked));
  }

  /** Sends a frame only if connected now (typing: stale ones are worthless); true if sent. */
  sendNow(frame) {
    if (!this.open) return false;
    this.socket.send(typeof frame === "string" || frame instanceof ArrayBuffer ? frame : JSON.stringify(frame));
    return true;
  }
}
