// egovsim signer: reload the chooser when signing requests come or go.
// The page itself is plain HTML forms; this script only keeps the list current. While a password
// is being typed it does not reload, and says that the list changed instead.
(() => {
  "use strict";
  const shown = document.body.dataset.pending || "";
  const notice = document.getElementById("changes");

  function typing() {
    const active = document.activeElement;
    return active instanceof HTMLInputElement && active.type === "password" && active.value !== "";
  }

  async function poll() {
    try {
      const response = await fetch("/api/pending", { cache: "no-store" });
      if (response.ok) {
        const data = await response.json();
        const now = data.pending.map((request) => request.requestId).join(" ");
        if (now !== shown) {
          if (!typing()) {
            window.location.replace("/");
            return;
          }
          notice.hidden = false;
        }
      }
    } catch (error) {
      // the signer is restarting or stopped: keep asking
    }
    window.setTimeout(poll, 1000);
  }

  window.setTimeout(poll, 1000);
})();
