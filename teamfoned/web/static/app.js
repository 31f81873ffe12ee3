// Progressive enhancement only: every page works without this file.
"use strict";

// My team: follow each team's event stream; EventSource reconnects by itself.
for (const section of document.querySelectorAll("[data-team-events]")) {
  const events = new EventSource(section.dataset.teamEvents);
  events.addEventListener("team", (message) => {
    const team = JSON.parse(message.data);
    const waiting = section.querySelector("[data-waiting]");
    if (waiting) waiting.textContent = team.waiting_text;
    for (const mate of team.members) {
      const line = section.querySelector(`.line[data-member="${mate.id}"]`);
      if (!line) continue;
      line.textContent = mate.label;
      line.closest("li").className = `line-${mate.state}`;
    }
    section.classList.remove("stale");
  });
  events.addEventListener("error", () => section.classList.add("stale"));
}

// Installable, and the last status shown offline (the service worker keeps it).
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" });
}
if (!navigator.onLine || document.documentElement.dataset.offline === "1") {
  for (const banner of document.querySelectorAll(".offline")) banner.hidden = false;
}
window.addEventListener("offline", () => {
  for (const banner of document.querySelectorAll(".offline")) banner.hidden = false;
});
window.addEventListener("online", () => {
  for (const banner of document.querySelectorAll(".offline")) banner.hidden = true;
});
