// Logging in: the email, then the authenticator's code; then where the person came from.
import { json, showError } from "./api.js";
import "./session.js";

const emailForm = document.getElementById("login-email");
const codeForm = document.getElementById("login-code");
const next = document.body.dataset.next || "/rooms/";

// After a social sign-in the email is in the session already: straight to the code.
if (document.body.dataset.step === "code") {
  emailForm.hidden = true;
  codeForm.hidden = false;
  codeForm.elements.code.focus();
}

emailForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const alert = document.getElementById("email-error");
  showError(alert, null);
  try {
    // 303 to totp/verify/, which fetch follows: the email is now in the session.
    await json("POST", "/api/v1/user/login/", { email: emailForm.elements.email.value.trim() }, { retry: false });
    codeForm.hidden = false;
    codeForm.elements.code.focus();
  } catch (error) {
    showError(alert, error);
  }
});

codeForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const alert = document.getElementById("code-error");
  showError(alert, null);
  try {
    await json("POST", "/api/v1/user/totp/verify/", { otp_token: codeForm.elements.code.value.trim() }, { retry: false });
    location.assign(next);
  } catch (error) {
    showError(alert, error);
  }
});
