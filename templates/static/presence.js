// Who is typing and how many members are online, from chat.typing and chat.active.

const STALE_MS = 8000;

export class Presence {
  constructor(typingElement, onlineElement) {
    this.typingElement = typingElement;
    this.onlineElement = onlineElement;
    this.typing = new Map();
  }

  /** A chat.typing event: `content` null means they stopped. */
  typingEvent(event) {
    this.stopped(event.username);
    if (event.content) {
      // A typist whose "stopped" frame was lost must not type forever.
      this.typing.set(event.username, setTimeout(() => this.stopped(event.username), STALE_MS));
    }
    this.show();
  }

  /** `username` stopped typing (or sent their message). */
  stopped(username) {
    clearTimeout(this.typing.get(username));
    if (this.typing.delete(username)) this.show();
  }

  show() {
    this.typingElement.textContent = [...this.typing.keys()].map((name) => `${name} is typing...`).join(" ");
  }

  /** A chat.active event: members connected to the room. */
  online(count) {
    this.onlineElement.textContent = `${count} online`;
  }
}
