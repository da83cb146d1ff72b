// The composer: Enter (or Send) sends the text, Attach sends a file as a binary media
// frame, Reply/Cancel reply chooses what the next send answers, and typing is announced.
import { summary } from "./message-list.js";

const DELIMITER = new TextEncoder().encode("<delimiter>");
const IDLE_MS = 3000;

export class Composer {
  constructor(form, socket, { onError }) {
    this.form = form;
    this.socket = socket;
    this.onError = onError;
    this.text = form.elements.message;
    this.replyTo = null;
    this.typingTimer = null;
    this.announced = false;
    this.replying = form.querySelector("#replying");

    form.addEventListener("submit", (event) => { event.preventDefault(); this.sendText(); });
    this.text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.sendText();
      }
    });
    this.text.addEventListener("input", () => this.typed());
    form.querySelector("#attach").addEventListener("change", (event) => this.attach(event.target));
    form.querySelector("#cancel-reply").addEventListener("click", () => this.reply(null));
  }

  /** The next send answers `message` (null: no reply). */
  reply(message) {
    this.replyTo = message;
    this.replying.hidden = message === null;
    this.form.querySelector("#replying-to").textContent = message ? `${message.username}: ${summary(message)}` : "";
    this.text.focus();
  }

  sendText() {
    const message = this.text.value.trim();
    if (!message) return;
    this.onError(null);
    const frame = this.replyTo
      ? { message_type: "reply", message, previous_message_id: this.replyTo.id }
      : { message_type: "message", message };
    this.socket.sendMessage(frame);
    this.text.value = "";
    this.reply(null);
    this.stopTyping();
  }

  async attach(input) {
    const file = input.files && input.files[0];
    input.value = "";
    if (!file) return;
    const kind = (file.type || "").split("/")[0];
    if (!["image", "audio", "video"].includes(kind)) {
      this.onError("Choose an image, audio or video file.");
      return;
    }
    const metadata = this.replyTo
      ? { message_type: "reply", previous_message_id: this.replyTo.id, media_format: kind }
      : { message_type: "media", media_format: kind };
    const head = new TextEncoder().encode(JSON.stringify(metadata));
    const bytes = new Uint8Array(await file.arrayBuffer());
    const frame = new Uint8Array(head.length + DELIMITER.length + bytes.length);
    frame.set(head, 0);
    frame.set(DELIMITER, head.length);
    frame.set(bytes, head.length + DELIMITER.length);
    if (!this.socket.sendNow(frame.buffer)) {
      this.onError("Not connected: the file was not sent. Try again when reconnected.");
      return;
    }
    this.onError(null);
    this.reply(null);
  }

  typed() {
    if (!this.announced && this.socket.sendNow({ message_type: "typing", message: "typing" })) this.announced = true;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.stopTyping(), IDLE_MS);
  }

  stopTyping() {
    clearTimeout(this.typingTimer);
    if (this.announced) this.socket.sendNow({ message_type: "typing", message: "not_typing" });
    this.announced = false;
  }
}
