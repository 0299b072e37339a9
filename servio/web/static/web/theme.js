/* Apply the remembered (or the system's) colour theme before the page paints. */
(function () {
  var theme = null;
  try { theme = localStorage.getItem("servio-theme"); } catch (e) { /* private mode */ }
  if (theme !== "light" && theme !== "dark") {
    theme = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  document.documentElement.setAttribute("data-bs-theme", theme);
})();
