/* Store screens: live-region announcements, scanner feedback (beep), duplicate-scan guard,
   focus kept on the scan field, new-order announcements on the polled queue. No dependencies
   besides htmx (served locally by django-htmx). */
(function () {
  "use strict";

  var DUPLICATE_MS = 2000;
  var audio = null;

  // Refusals (409 wrong item, 422 bad input, 429 too many attempts) carry the page fragment
  // with the message: swap them like a success; only 5xx are errors.
  if (window.htmx) {
    window.htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "4..", swap: true },
      { code: "...", swap: false, error: true }
    ];
  }

  function announce(text) {
    var region = document.getElementById("announcer");
    if (!region || !text) { return; }
    region.textContent = "";
    // A fresh text node after a tick makes screen readers read a repeated message again.
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  function beep(ok) {
    try {
      var Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) { return; }
      audio = audio || new Context();
      var oscillator = audio.createOscillator();
      var gain = audio.createGain();
      oscillator.type = "square";
      oscillator.frequency.value = ok ? 1046 : 220;
      gain.gain.value = 0.08;
      oscillator.connect(gain);
      gain.connect(audio.destination);
      oscillator.start();
      oscillator.stop(audio.currentTime + (ok ? 0.12 : 0.35));
    } catch (error) { /* no audio device: the visible feedback is enough */ }
  }

  function newScanId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return String(Date.now()) + "-" + String(Math.random()).slice(2);
  }

  // After a scan the field is emptied for the next one; on page load a prefilled value (a
  // scanned pickup code) is kept.
  function focusScan(clear) {
    var field = document.querySelector("[data-scan-field]");
    if (!field) { return; }
    if (clear) { field.value = ""; }
    field.focus();
  }

  // Duplicate scans of the same code within 2 s are dropped before they reach the server
  // (a scanner that double-fires, a nervous double press); the server also ignores a scan id
  // it has already applied.
  var lastScan = { code: "", at: 0 };
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-scan-form]")) { return; }
    var field = form.querySelector("[data-scan-field]");
    var code = field ? field.value.trim() : "";
    var now = Date.now();
    if (!code || (code === lastScan.code && now - lastScan.at < DUPLICATE_MS)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      if (code) { announce("Duplicate scan of " + code + " ignored."); }
      if (field) { field.value = ""; field.focus(); }
      return;
    }
    lastScan = { code: code, at: now };
    var scanId = form.querySelector("input[name=scan_id]");
    if (scanId) { scanId.value = newScanId(); }
  }, true);

  function afterSwap(root) {
    var feedback = root.querySelector ? root.querySelector("[data-feedback]") : null;
    if (feedback) {
      beep(feedback.getAttribute("data-feedback") === "ok");
      announce(feedback.textContent.trim());
    }
    if (document.querySelector("[data-scan-field]")) { focusScan(true); }
    announceNewOrders();
  }

  // Queue: announce orders that appear in "to prepare" since the previous refresh.
  var known = null;
  function announceNewOrders() {
    var board = document.querySelector("[data-queue-board]");
    if (!board) { return; }
    var cards = board.querySelectorAll("[data-new-candidate]");
    var seen = {};
    var fresh = [];
    cards.forEach(function (card) {
      var id = card.getAttribute("data-fo-id");
      seen[id] = true;
      if (known && !known[id]) { fresh.push(card.getAttribute("data-order-number")); }
    });
    if (known && fresh.length) {
      announce(fresh.length === 1
        ? "New order " + fresh[0] + " to prepare."
        : fresh.length + " new orders to prepare: " + fresh.join(", ") + ".");
    }
    known = seen;
  }

  document.addEventListener("htmx:afterSwap", function (event) { afterSwap(event.target); });
  document.addEventListener("htmx:responseError", function () {
    beep(false);
    announce("The server refused the request. Try again.");
  });
  document.addEventListener("DOMContentLoaded", function () {
    announceNewOrders();
    var initial = document.querySelector("[data-feedback]");
    if (initial) { beep(initial.getAttribute("data-feedback") === "ok"); }
    focusScan(false);
  });

  window.omnilogStore = { announce: announce, beep: beep, focusScan: focusScan };
})();
