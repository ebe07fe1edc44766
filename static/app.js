// Shipshape's only script besides htmx (the CSP forbids inline script).
// When an htmx request fails, say so instead of leaving the page unchanged.
document.addEventListener("htmx:responseError", function (event) {
  var target = event.detail.target;
  if (!target) return;
  var note = document.createElement("p");
  note.className = "error-box";
  note.setAttribute("role", "alert");
  note.textContent = "The server answered " + event.detail.xhr.status + ". Reload the page and try again.";
  target.insertAdjacentElement("afterend", note);
});
