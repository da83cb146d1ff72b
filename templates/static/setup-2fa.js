// Enrolling an authenticator: creates the device for the verified email of the session,
// shows its QR code and secret, and confirms it with the first code.
import { json, request, showError } from "./api.js";
import "./session.js";

const deviceError = document.getElementById("device-error");
const codeError = document.getElementById("code-error");
const form = document.getElementById("confirm");

async function enroll() {
  try {
    await json("POST", "/api/v1/user/totp-device/create/", undefined, { retry: false });
    const png = await request("POST", "/api/v1/user/qr-code/", undefined, { accept: "image/png", retry: false });
    const image = document.getElementById("qr");
    image.src = URL.createObjectURL(await png.blob());
    image.hidden = false;
    const { secret } = await json("POST", "/api/v1/user/qr-code/", undefined, { retry: false });
    document.getElementById("secret").textContent = secret;
  } catch (error) {
    showError(deviceError, error);
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  showError(codeError, null);
  try {
    await json("POST", "/api/v1/user/totp-device/verify/", { otp_token: form.elements.code.value.trim() }, { retry: false });
    location.assign("/login/");
  } catch (error) {
    showError(codeError, error);
  }
});

enroll();
