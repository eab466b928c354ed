// The admin dashboard: GET /api/admin/stats (API.md section 5) for an admin's token.
import * as api from "./api.js";
import { $, describeError, el, formData, show } from "./dom.js";
import { Session } from "./session.js";

const session = new Session();
const nodes = {
  auth: $("#auth-view"),
  stats: $("#stats"),
  error: $("#admin-error"),
  me: $("#me"),
  reload: $("#reload"),
  logout: $("#logout"),
};

const label = (key) => key.replaceAll("_", " ");

function table(entries) {
  return el(
    "table",
    {},
    ...entries.map(([key, value]) => el("tr", {}, el("th", { scope: "row" }, label(key)), el("td", {}, String(value ?? "—")))),
  );
}

// One row per day, with a bar scaled to the busiest day.
function perDay(days) {
  const busiest = Math.max(1, ...days.map((day) => day.count));
  return el(
    "table",
    { "aria-label": "messages per day" },
    ...days.map(({ date, count }) => {
      const bar = el("span", { className: "bar" });
      bar.style.width = `${(count / busiest) * 6}rem`; // CSSOM, as the CSP refuses style attributes
      return el("tr", {}, el("th", { scope: "row" }, date), el("td", {}, bar, ` ${count}`));
    }),
  );
}

function section(name, values) {
  const scalars = Object.entries(values).filter(([, value]) => typeof value !== "object" || value === null);
  const parts = [el("h2", {}, label(name)), table(scalars)];
  for (const [key, value] of Object.entries(values)) {
    if (Array.isArray(value)) parts.push(el("h3", {}, label(key)), perDay(value));
    else if (value && typeof value === "object") parts.push(el("h3", {}, label(key)), table(Object.entries(value)));
  }
  return el("section", { "aria-label": label(name) }, ...parts);
}

async function loadStats() {
  nodes.error.textContent = "";
  try {
    const stats = await api.adminStats(session.token);
    nodes.stats.replaceChildren(...Object.entries(stats).map(([name, values]) => section(name, values)));
    show(nodes.stats, true);
  } catch (error) {
    show(nodes.stats, false);
    nodes.error.textContent = error.code === "forbidden" ? "This account is not an administrator." : describeError(error);
  }
}

function signedIn() {
  nodes.me.textContent = `${session.user.display_name} (@${session.user.username})`;
  show(nodes.auth, false);
  show(nodes.reload, true);
  show(nodes.logout, true);
  return loadStats();
}

function signedOut() {
  nodes.me.textContent = "";
  show(nodes.stats, false);
  show(nodes.reload, false);
  show(nodes.logout, false);
  show(nodes.auth, true);
}

$("#login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  nodes.error.textContent = "";
  const { login, password } = formData(event.target);
  try {
    session.start(await api.login(login, password));
    await signedIn();
  } catch (error) {
    nodes.error.textContent = describeError(error);
  }
});
nodes.reload.addEventListener("click", loadStats);
nodes.logout.addEventListener("click", () => session.end());
session.addEventListener("end", signedOut);
if (await session.restore()) await signedIn();
else signedOut();
