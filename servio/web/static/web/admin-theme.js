/* The admin follows the colour theme chosen on the desk, and the desk the one chosen here.
   Loaded before Django's admin/js/theme.js, which applies localStorage "theme". */
(function () {
  var desk = null;
  try { desk = localStorage.getItem("servio-theme"); } catch (e) { /* private mode */ }
  if (desk === "light" || desk === "dark") {
    try { localStorage.setItem("theme", desk); } catch (e) { /* private mode */ }
  }
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target || !target.closest || !target.closest(".theme-toggle")) {
      return;
    }
    // Django's own handler (on the button) has run: copy what it chose for the desk.
    var mode = document.documentElement.getAttribute("data-theme");
    try {
      if (mode === "light" || mode === "dark") {
        localStorage.setItem("servio-theme", mode);
      } else {
        localStorage.removeItem("servio-theme");
      }
    } catch (e) { /* private mode */ }
  });
})();
