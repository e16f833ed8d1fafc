// The header menu on a phone: a disclosure button (aria-expanded, aria-controls) folds the
// navigation away until asked for. Without this script the button stays hidden and the menu
// open, so nothing is ever out of reach. Escape closes the menu and returns focus to the button.
(function () {
  "use strict";
  function setUp() {
    var button = document.querySelector(".menu-toggle");
    var header = document.querySelector(".site-header");
    if (!button || !header) return;
    var menu = document.getElementById(button.getAttribute("aria-controls"));
    if (!menu) return;
    button.hidden = false;
    header.classList.add("site-header--folding");
    function set(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("site-menu--open", open);
    }
    button.addEventListener("click", function () {
      set(button.getAttribute("aria-expanded") !== "true");
    });
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        set(false);
        button.focus();
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
