// What every page shares: the Log out button, and the renewal page that gets fresh
// tokens for an expired access token and goes back where the person was.
import { json, renew } from "./api.js";

const logout = document.getElementById("logout");
if (logout) {
  logout.addEventListener("click", async () => {
    logout.disabled = true;
    try { await json("POST", "/api/v1/user/logout/"); } catch { /* signed out either way */ }
    location.assign("/login/");
  });
}

const next = document.body.dataset.next;
if (next !== undefined && document.getElementById("login-email") === null) {
  renew().then((renewed) => {
    location.replace(renewed ? next : "/login/?next=" + encodeURIComponent(next));
  });
}
