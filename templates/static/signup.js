// The sign-up page: registers, then tells the person to check their email.
import { ApiError, json, showError } from "./api.js";
import "./session.js";

const form = document.getElementById("signup");
const errors = {
  email: document.getElementById("email-error"),
  username: document.getElementById("username-error"),
  form: document.getElementById("form-error"),
};
const status = document.getElementById("signup-status");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  Object.values(errors).forEach((element) => showError(element, null));
  status.textContent = "";
  const email = form.elements.email.value.trim();
  const username = form.elements.username.value.trim();
  const body = username ? { email, username } : { email };
  try {
    await json("POST", "/api/v1/user/register/", body, { retry: false });
    form.reset();
    status.textContent = `Check your email: we sent a link to ${email} to verify your address.`;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const field = ["email", "username"].find((name) => error.concerns(name)) || "form";
    showError(errors[field], error);
  }
});
