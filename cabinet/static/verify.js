// egovsim personal cabinet: "check the signature" of a result e-document.
//
// The button downloads the signed XML (the same file as the download link), posts it to
// POST /cabinet/api/verify (the check anyone can run: XMLDSig, the chain up to the NCA, OCSP and
// CRL) and shows the answer. Its data attributes give the URLs, the page language, the output
// element and the texts (data-t-*); answers are shown with textContent only.
(() => {
  "use strict";

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function start(button) {
    const data = button.dataset;
    const output = document.getElementById(data.output);
    const say = (key) => data["t" + key.charAt(0).toUpperCase() + key.slice(1)] || key;

    function facts(answer) {
      const signer = answer.signer || {};
      const rows = [
        ["signer", signer.commonName],
        ["iin", signer.iin],
        ["bin", signer.bin],
        ["organization", signer.organization],
        ["serial", signer.serialNumber],
        ["notAfter", signer.notAfter],
        ["revocation", (answer.revocation || []).map((r) => r.by + ": " + r.status).join(", ")],
        ["trust", answer.trustAnchor],
      ];
      const table = element("table", undefined, "facts");
      for (const [key, value] of rows) {
        if (!value) continue;
        const row = table.insertRow();
        row.append(element("th", say(key)), element("td", String(value)));
      }
      return table;
    }

    function show(state, nodes, role) {
      output.dataset.state = state;
      output.className = state === "valid" ? "accepted" : state === "checking" ? "" : "refusal";
      output.setAttribute("role", role || "status");
      output.replaceChildren(...nodes);
    }

    async function problemOf(response) {
      try {
        const body = await response.json();
        if (body && body.code) return body;
      } catch (error) {
        // not a JSON problem
      }
      return { code: "HTTP_" + response.status, message: response.statusText };
    }

    function refused(problem) {
      const head = element("p");
      head.append(element("span", problem.code, "code"));
      const text = (problem.messages && problem.messages[data.lang]) || problem.message || "";
      show("error", [head, element("p", text)], "alert");
    }

    async function check() {
      button.disabled = true;
      show("checking", [element("p", say("checking"))]);
      const download = await fetch(data.resultUrl, { credentials: "same-origin", cache: "no-store" });
      if (!download.ok) return refused(await problemOf(download));
      const xml = await download.text();
      const answer = await fetch(data.verifyUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/xml", Accept: "application/json" },
        body: xml,
      });
      if (!answer.ok) return refused(await problemOf(answer));
      const verdict = await answer.json();
      const head = element("p");
      head.append(element("strong", say(verdict.valid ? "valid" : "invalid")));
      if (!verdict.valid && verdict.code) head.append(" · ", element("span", verdict.code, "code"));
      const nodes = [head];
      if (!verdict.valid && verdict.detail) nodes.push(element("p", verdict.detail, "hint"));
      nodes.push(facts(verdict));
      show(verdict.valid ? "valid" : "invalid", nodes, verdict.valid ? "status" : "alert");
    }

    button.addEventListener("click", () => {
      check()
        .catch((error) => show("error", [element("p", String(error.message || error))], "alert"))
        .finally(() => {
          button.disabled = false;
        });
    });
  }

  function init() {
    for (const button of document.querySelectorAll("button[data-verify]")) start(button);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
