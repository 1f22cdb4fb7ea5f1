// walletd's pages: tell the embedding page (iframe) or the opener (pop-up) how the confirmation
// ended, and count down a reservation code's validity. Served from walletd itself (CSP: 'self').
(function () {
  "use strict";
  function finish() {
    var notice = document.getElementById("notice");
    if (!notice) return;
    var display = notice.dataset.display;
    var redirect = notice.dataset.redirect || null;
    var message = {
      type: "walletd:transaction",
      transaction_key: notice.dataset.transactionKey,
      status: notice.dataset.status,
      redirect_uri: redirect
    };
    if (display === "iframe" && window.parent && window.parent !== window) {
      // The embedding page decides where to go: browsers refuse top navigation from a frame
      // without a click, so the notice also keeps a "Continue" link (target=_top).
      window.parent.postMessage(message, "*");
    } else if (display === "popup" && window.opener) {
      window.opener.postMessage(message, "*");
      if (redirect) {
        try { window.opener.location.href = redirect; } catch (e) { /* opener gone */ }
      }
      window.close();
    }
  }
  function countdown() {
    var el = document.getElementById("countdown");
    if (!el) return;
    // Seconds left as the server counted them (its clock may be a moved sandbox clock).
    var total = parseInt(el.dataset.secondsLeft, 10);
    var start = Date.now();
    var prefix = el.dataset.prefix || "Expires in";
    var expired = el.dataset.expired || "Expired";
    function tick() {
      var left = total - Math.floor((Date.now() - start) / 1000);
      if (left <= 0) {
        el.textContent = expired;
        return;
      }
      var m = Math.floor(left / 60), s = left % 60;
      el.textContent = prefix + " " + m + ":" + (s < 10 ? "0" : "") + s;
      setTimeout(tick, 1000);
    }
    tick();
  }
  document.addEventListener("DOMContentLoaded", function () { finish(); countdown(); });
})();
