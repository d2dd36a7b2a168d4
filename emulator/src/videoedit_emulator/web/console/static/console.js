// The console's only script: refresh live fragments, and send the control plane's calls.
// Every fragment is HTML the server rendered (and escaped); nothing is built from text here.
"use strict";

const REFRESH_MS = 1000;

// <div data-live="URL" [data-until="SUCCEEDED FAILED"]>: replaced by GET URL once a second,
// until a status named in data-until shows up in it (a finished task changes no more).
function keepLive(element) {
  const until = (element.dataset.until || "").split(" ").filter(Boolean);
  let last = element.innerHTML;
  async function refresh() {
    try {
      const answer = await fetch(element.dataset.live, {cache: "no-store"});
      if (answer.ok) {
        const html = await answer.text();
        if (html !== last) {
          element.innerHTML = last = html;
        }
        const status = element.querySelector(".status");
        if (status && until.includes(status.textContent.trim())) {
          window.location.reload(); // the page shows more once a task has ended
          return;
        }
      }
    } catch (error) {
      // the emulator stopped or restarted: keep trying, quietly
    }
    window.setTimeout(refresh, REFRESH_MS);
  }
  window.setTimeout(refresh, REFRESH_MS);
}

// <form data-control="METHOD" action="/_emulator/..."> sends its fields as the JSON body the
// control plane reads (inputs with data-type="number" as numbers), shows the answer in its
// <output>, and reloads the page when the call succeeded.
function control(form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      return;
    }
    const body = {};
    for (const input of form.querySelectorAll("input[name]")) {
      if (input.value === "" && !input.required) continue;
      body[input.name] = input.dataset.type === "number" ? Number(input.value) : input.value;
    }
    const output = form.querySelector("output");
    const method = form.dataset.control;
    try {
      const answer = await fetch(form.getAttribute("action"), {
        method,
        headers: {"Content-Type": "application/json"},
        body: method === "DELETE" ? undefined : JSON.stringify(body),
      });
      const data = await answer.json();
      if (answer.ok) {
        window.location.reload();
        return;
      }
      const error = data.error || {};
      output.textContent = `${answer.status}: ${error.message || ""}`; // the message names the field
      output.className = "error";
    } catch (error) {
      output.textContent = String(error);
      output.className = "error";
    }
  });
}

document.querySelectorAll("[data-live]").forEach(keepLive);
document.querySelectorAll("form[data-control]").forEach(control);
