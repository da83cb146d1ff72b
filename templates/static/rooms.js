// The rooms page: the person's rooms, newest first, and creating one with members.
import { ApiError, json, showError } from "./api.js";
import { memberPicker } from "./members.js";
import "./session.js";

const list = document.getElementById("rooms");
const form = document.getElementById("create-room");
const picked = document.getElementById("picked");
const chosen = new Map();

async function showRooms() {
  try {
    const rooms = await json("GET", "/api/v1/chat/room-list/");
    list.replaceChildren(...rooms.map((room) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = `/rooms/${encodeURIComponent(room.id)}/`;
      link.textContent = room.room_name;
      item.append(link);
      return item;
    }));
    if (rooms.length === 0) {
      const none = document.createElement("li");
      none.textContent = "No rooms yet: create one below.";
      list.append(none);
    }
  } catch (error) {
    showError(document.getElementById("rooms-error"), error);
  }
}

function showPicked() {
  picked.replaceChildren(...[...chosen.values()].map((user) => {
    const item = document.createElement("li");
    item.textContent = user.username + " ";
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", `Remove ${user.username}`);
    remove.addEventListener("click", () => { chosen.delete(user.id); showPicked(); });
    item.append(remove);
    return item;
  }));
}

const picker = memberPicker(document.getElementById("add-members"), document.getElementById("member-options"), (user) => {
  chosen.set(user.id, user);
  showPicked();
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  picker.pickTyped();
  const nameError = document.getElementById("room-name-error");
  const membersError = document.getElementById("members-error");
  showError(nameError, null);
  showError(membersError, null);
  try {
    const room = await json("POST", "/api/v1/chat/room-list/", {
      room_name: form.elements.room_name.value.trim(),
      user_ids: [...chosen.keys()],
    });
    location.assign(`/rooms/${encodeURIComponent(room.id)}/`);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showError(error.concerns("user_ids") ? membersError : nameError, error);
  }
});

showRooms();
