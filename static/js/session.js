// The signed-in session: the access token lives in memory only and is renewed before it
// expires with the refresh cookie (HttpOnly), which also restores the session on reload.
import * as api from "./api.js";

const RENEW_AT = 0.8; // renew when 80% of the access token's lifetime has passed
const MARKER = "parley.signed-in"; // the cookie is HttpOnly: this says whether to try it

export class Session extends EventTarget {
  user = null;
  token = null;
  #timer = null;

  get active() {
    return this.token !== null;
  }

  start(auth) {
    this.user = auth.user;
    this.token = auth.access_token;
    localStorage.setItem(MARKER, "1");
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.renew().catch(() => this.#lost()), auth.expires_in * 1000 * RENEW_AT);
    this.dispatchEvent(new Event("token"));
  }

  // A new access token from the refresh cookie; throws ApiError when the session is over.
  async renew() {
    this.start(await api.refresh());
  }

  async restore() {
    if (!localStorage.getItem(MARKER)) return false;
    try {
      await this.renew();
      return true;
    } catch {
      this.#clear();
      return false;
    }
  }

  async end() {
    const token = this.token;
    this.#clear();
    await api.logout(token).catch(() => {});
    this.dispatchEvent(new Event("end"));
  }

  #lost() {
    this.#clear();
    this.dispatchEvent(new Event("end"));
  }

  #clear() {
    localStorage.removeItem(MARKER);
    clearTimeout(this.#timer);
    this.user = null;
    this.token = null;
  }
}
