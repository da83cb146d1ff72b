// The emailed link's page: the button confirms the address, then 2FA setup follows.
import { json, showError } from "./api.js";

const form = document.querySelector("form[method=post]");
if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const alert = document.getElementById("verify-error");
    showError(alert, null);
    try {
      await json("POST", new URL(form.action).pathname, undefined, { retry: false });
      location.assign("/setup-2fa/");
    } catch (error) {
      showError(alert, error);
    }
  });
}
