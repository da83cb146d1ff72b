// The room page: history, the live socket, the composer, presence and membership.
import { json, localPath, showError, toLogin } from "./api.js";
import { Composer } from "./composer.js";
import { addMembers, memberPicker, removeMember } from "./members.js";
import { MessageList } from "./message-list.js";
import { Presence } from "./presence.js";
import { ChatSocket } from "./socket.js";
import "./session.js";

const data = document.body.dataset;
const historyPath = data.historyPath;
const element = (id) => document.getElementById(id);
const composerError = element("composer-error");
const connection = element("connection");
const olderButton = element("older");
const log = element("messages");

element("history-fallback").remove();

const presence = new Presence(element("typing"), element("online"));
let composer = null;
const list = new MessageList(log, { me: data.userId, onReply: (message) => composer.reply(message) });
let older = null;

const atBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 40;

/** Adds a page of history (newest first); remembers the link to the older page. */
function addPage(page) {
  page.results.forEach((message) => list.add(message));
  return page.previous_messages ? localPath(page.previous_messages) : null;
}

async function loadOlder() {
  if (!older) return;
  const link = older;
  older = null;
  olderButton.disabled = true;
  const height = log.scrollHeight;
  try {
    older = addPage(await json("GET", link));
    log.scrollTop += log.scrollHeight - height;
  } catch (error) {
    older = link;
    showError(composerError, error);
  }
  olderButton.disabled = false;
  olderButton.hidden = older === null;
}

/** Fetches the latest pages until every seq up to `seq` is shown (a hole in the stream). */
async function fillGap(seq) {
  let link = `${historyPath}?page_size=100`;
  const known = list.maxSeq;
  while (link) {
    const page = await json("GET", link);
    page.results.forEach((message) => list.add(message));
    const oldest = page.results.at(-1);
    if (!oldest || oldest.seq <= known + 1 || seq <= known) break;
    link = page.previous_messages ? localPath(page.previous_messages) : null;
  }
}

async function onMessage(message) {
  const follow = atBottom();
  if (message.seq > list.maxSeq + 1) {
    try { await fillGap(message.seq); } catch { /* the message itself still shows */ }
  }
  list.add(message);
  presence.stopped(message.username);
  if (follow) log.scrollTop = log.scrollHeight;
}

let queue = Promise.resolve();
function onEvent(event) {
  // One event at a time, so a gap fill finishes before the next message is placed.
  queue = queue.then(() => handle(event)).catch(() => {});
}

async function handle(event) {
  switch (event.type) {
    case "chat.message": return onMessage(event);
    case "chat.notification": list.notice(event.content); return undefined;
    case "chat.typing": presence.typingEvent(event); return undefined;
    case "chat.active": presence.online(event.content); return undefined;
    case "chat.error": composerError.textContent = event.content; return undefined;
    default: return undefined;
  }
}

function onState(state, code) {
  if (state === "open") connection.textContent = "";
  else if (state === "reconnecting") connection.textContent = "Reconnecting…";
  else if (code === 4001) connection.textContent = "You are no longer a member of this room.";
  else toLogin();
}

function membership() {
  const members = element("members");
  const errors = element("members-error");
  const removable = (item) => {
    const button = item.querySelector("button.remove");
    if (!button) return;
    button.setAttribute("aria-label", `Remove ${item.querySelector(".name").textContent}`);
    button.addEventListener("click", async () => {
      showError(errors, null);
      try { await removeMember(data.roomId, item.dataset.userId); item.remove(); } catch (error) { showError(errors, error); }
    });
  };
  members.querySelectorAll("li").forEach(removable);
  element("leave").addEventListener("click", async () => {
    try { await removeMember(data.roomId, data.userId); location.assign("/rooms/"); } catch (error) { showError(errors, error); }
  });
  const form = element("add-member");
  if (!form) return;
  const add = async (user) => {
    showError(errors, null);
    try {
      await addMembers(data.roomId, [user.id]);
      if (members.querySelector(`li[data-user-id="${CSS.escape(user.id)}"]`)) return;
      const item = document.createElement("li");
      item.dataset.userId = user.id;
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = user.username;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "remove";
      remove.textContent = "Remove";
      item.append(name, " ", remove);
      members.append(item);
      removable(item);
    } catch (error) { showError(errors, error); }
  };
  const picker = memberPicker(element("add-members"), element("member-options"), add);
  form.addEventListener("submit", (event) => { event.preventDefault(); picker.pickTyped(); });
}

async function start() {
  membership();
  olderButton.addEventListener("click", loadOlder);
  log.addEventListener("scroll", () => { if (log.scrollTop === 0) loadOlder(); });
  try {
    older = addPage(await json("GET", `${historyPath}?page_size=30`));
  } catch (error) {
    showError(composerError, error);
  }
  olderButton.hidden = older === null;
  log.scrollTop = log.scrollHeight;
  const socket = new ChatSocket(data.wsPath, { since: () => list.lastId, onEvent, onState });
  composer = new Composer(element("composer"), socket, {
    onError: (text) => { composerError.textContent = text || ""; },
  });
  socket.connect();
}

start();
