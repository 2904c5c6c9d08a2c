// egovsim portal: sign a request in the browser the way egov.kz does, through NCALayer.
//
// NCALayer (НУЦ РК's signing app) listens on 127.0.0.1:13579 and every Kazakh front end talks to
// it over a websocket; egovsim's signer (signing/ncalayer.py) answers the same messages, so this
// is a front end written for NCALayer, with no framework:
//
//   1. GET the request document (XML) with the session cookie;
//   2. open the websocket and wait for the greeting {"result":{"version":"1.2"}};
//   3. send commonUtils.signXml ["PKCS12", "SIGNATURE", xml, "", ""]: the user chooses a key file
//      and types its password in the signer's window; the answer is
//      {"code":"200","responseObject":<signed XML>}, or {"code":"500","message":"action.canceled"}
//      when the user cancels, or {"code":"500","message":<why>};
//   4. POST the signed XML to …/submit (Content-Type application/xml, X-CSRF-Token from the
//      page's csrf-token meta tag) and show the answer: 202 accepted, or the refusal's problem
//      (RFC 9457: code, step, message, messages).
//
// The page gives everything through data attributes of <section id="sign">: the URLs, the page
// language and the texts (data-t-*). Answers are shown with textContent only.
(() => {
  "use strict";

  const COMMON_UTILS = "kz.gov.pki.knca.commonUtils";
  const CANCELED = "action.canceled";
  const HEARTBEAT = "--heartbeat--";

  class SignerError extends Error {
    constructor(message, { canceled = false, unavailable = false } = {}) {
      super(message);
      this.canceled = canceled;
      this.unavailable = unavailable;
    }
  }

  // One connection to NCALayer (or anything speaking its protocol): one request at a time,
  // answered in order.
  class NcaLayer {
    constructor(url) {
      this.url = url;
      this.socket = null;
      this.waiting = [];
    }

    connect() {
      return new Promise((resolve, reject) => {
        let greeted = false;
        let socket;
        try {
          socket = new WebSocket(this.url);
        } catch (error) {
          reject(new SignerError(String(error), { unavailable: true }));
          return;
        }
        this.socket = socket;
        socket.onmessage = (event) => {
          if (event.data === HEARTBEAT) return;
          let reply;
          try {
            reply = JSON.parse(event.data);
          } catch (error) {
            reply = { code: "500", message: "the signer's answer is not JSON" };
          }
          if (!greeted) {
            greeted = true;
            if (reply && reply.result && reply.result.version) resolve(reply.result.version);
            else reject(new SignerError("no NCALayer greeting", { unavailable: true }));
            return;
          }
          const next = this.waiting.shift();
          if (next) next.resolve(reply);
        };
        socket.onclose = () => {
          if (!greeted) {
            greeted = true;
            reject(new SignerError("no signer at " + this.url, { unavailable: true }));
          }
          for (const waiter of this.waiting.splice(0)) {
            waiter.reject(new SignerError("the signer closed the connection"));
          }
        };
      });
    }

    call(module, method, args) {
      return new Promise((resolve, reject) => {
        this.waiting.push({ resolve, reject });
        this.socket.send(JSON.stringify({ module, method, args }));
      });
    }

    async signXml(xml) {
      const reply = await this.call(COMMON_UTILS, "signXml", ["PKCS12", "SIGNATURE", xml, "", ""]);
      if (reply && reply.code === "200" && typeof reply.responseObject === "string") return reply.responseObject;
      const message = (reply && reply.message) || "code " + (reply && reply.code);
      throw new SignerError(message, { canceled: message === CANCELED });
    }

    close() {
      if (this.socket) this.socket.close();
    }
  }

  // -- the page ------------------------------------------------------------------------------------
  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function start(section) {
    const data = section.dataset;
    const lang = data.lang || "kk";
    const button = document.getElementById("sign-button");
    const outcome = document.getElementById("sign-outcome");
    const csrfMeta = document.querySelector('meta[name="csrf-token"]');
    const csrf = csrfMeta ? csrfMeta.content : "";
    const say = (key) => data["t" + key.charAt(0).toUpperCase() + key.slice(1)] || key;

    function show(state, nodes, role) {
      section.dataset.state = state;
      outcome.replaceChildren(...nodes);
      outcome.className = state === "accepted" ? "accepted" : state === "refused" || state === "error" ? "refusal" : "";
      outcome.setAttribute("role", role || "status");
    }

    // a request sent or refused is closed: its status changes and it can no longer be signed
    function closed(status) {
      const cell = document.getElementById("request-status");
      if (cell) {
        cell.dataset.status = status;
        cell.textContent = say(status === "submitted" ? "statusSubmitted" : "statusRefused");
      }
      const own = document.getElementById("self-signed");
      if (own) own.closest("section").hidden = true;
    }

    function progress(state, key) {
      show(state, [element("p", say(key))]);
    }

    function cabinetLink() {
      const link = element("a", say("cabinet"));
      link.href = data.cabinetUrl;
      link.id = "cabinet-link";
      const paragraph = element("p");
      paragraph.append(link);
      return paragraph;
    }

    async function problemOf(response) {
      try {
        const body = await response.json();
        if (body && body.code) return body;
      } catch (error) {
        // not a JSON problem: described below
      }
      return { code: "HTTP_" + response.status, message: response.statusText || String(response.status) };
    }

    function refused(problem, isClosed) {
      const head = element("p");
      head.append(element("span", problem.code, "code"));
      if (problem.step) head.append(" · ", element("span", problem.step, "step"));
      const text = (problem.messages && problem.messages[lang]) || problem.message || "";
      const nodes = [head, element("p", text, "message")];
      if (problem.detail) nodes.push(element("p", problem.detail, "hint"));
      if (isClosed) nodes.push(cabinetLink());
      section.dataset.code = problem.code;
      show(isClosed ? "refused" : "error", nodes, "alert");
    }

    async function signAndSend() {
      button.disabled = true;
      delete section.dataset.code;
      progress("fetching", "fetching");
      const documentAnswer = await fetch(data.documentUrl, {
        credentials: "same-origin",
        headers: { Accept: "application/xml" },
        cache: "no-store",
      });
      if (!documentAnswer.ok) {
        refused(await problemOf(documentAnswer), false);
        button.disabled = false;
        return;
      }
      const xml = await documentAnswer.text();

      progress("connecting", "connecting");
      const signer = new NcaLayer(data.signerUrl);
      let signed;
      try {
        await signer.connect();
        progress("waiting", "waiting");
        signed = await signer.signXml(xml);
      } catch (error) {
        if (error.canceled) progress("canceled", "canceled");
        else if (error.unavailable) show("unavailable", [element("p", say("unavailable") + " " + data.signerUrl)], "alert");
        else show("error", [element("p", say("signerFailed") + " " + error.message)], "alert");
        button.disabled = false;
        return;
      } finally {
        signer.close();
      }

      progress("sending", "sending");
      const answer = await fetch(data.submitUrl + "?lang=" + encodeURIComponent(lang), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/xml", "X-CSRF-Token": csrf, Accept: "application/json" },
        body: signed,
      });
      if (answer.status === 202) {
        show("accepted", [element("p", say("accepted")), cabinetLink()]);
        closed("submitted");
        return;
      }
      const problem = await problemOf(answer);
      // a refusal at condition 2 closes the request (4-процесс); anything else leaves the draft
      const isClosed = problem.status_of === "refused" || (problem.step || "").endsWith(":4-процесс");
      refused(problem, isClosed);
      button.disabled = isClosed;
      if (isClosed) closed("refused");
    }

    button.addEventListener("click", () => {
      signAndSend().catch((error) => {
        show("error", [element("p", say("failed") + " " + error.message)], "alert");
        button.disabled = false;
      });
    });
    section.dataset.state = "ready"; // the button works from now on
  }

  function init() {
    const section = document.getElementById("sign");
    if (section) start(section);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
