// Picking users by username prefix (from user-list/), and a room's membership changes.
import { json } from "./api.js";

/**
 * Offers the users matching what is typed in `input` as options of `listbox`; picking one
 * (click, Enter, or typing a full username and pressing Enter) calls `onPick({id, username})`.
 */
export function memberPicker(input, listbox, onPick) {
  let known = [];
  let timer = null;

  const pick = (user) => {
    onPick(user);
    input.value = "";
    listbox.replaceChildren();
    input.focus();
  };

  const show = (users) => {
    known = users;
    listbox.replaceChildren(...users.map((user) => {
      const option = document.createElement("li");
      option.setAttribute("role", "option");
      option.tabIndex = 0;
      option.textContent = user.username;
      option.addEventListener("click", () => pick(user));
      option.addEventListener("keydown", (event) => {
        if (event.key === "Enter") { event.preventDefault(); pick(user); }
      });
      return option;
    }));
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    const prefix = input.value.trim();
    if (!prefix) { show([]); return; }
    timer = setTimeout(async () => {
      try {
        show(await json("GET", "/api/v1/user/user-list/?search=" + encodeURIComponent(prefix)));
      } catch { show([]); }
    }, 150);
  });

  /** The user whose username is exactly what is typed, if the list has them. */
  const typed = () => known.find((user) => user.username.toLowerCase() === input.value.trim().toLowerCase());

  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    const user = typed() || (known.length === 1 ? known[0] : null);
    if (user) { event.preventDefault(); pick(user); }
  });

  return { pickTyped() { const user = typed(); if (user) pick(user); } };
}

/** Adds `userIds` to room `roomId` (creator only). */
export const addMembers = (roomId, userIds) =>
  json("POST", `/api/v1/chat/room/${roomId}/users/`, { user_ids: userIds });

/** Removes `userId` from room `roomId` (the creator, or oneself: leaving). */
export const removeMember = (roomId, userId) =>
  json("DELETE", `/api/v1/chat/room/${roomId}/users/${userId}/`);
