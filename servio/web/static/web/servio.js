/* Servio's small front-end: theme toggle, SLA countdowns, keyboard shortcuts, drag-and-drop
   attachments, searchable pickers, the canned-response picker, bulk selection and the ticket
   refresh poll. No framework: htmx does the server round trips. */
(function () {
  "use strict";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function announce(text) {
    var live = document.getElementById("live-announcer");
    if (live) { live.textContent = ""; window.setTimeout(function () { live.textContent = text; }, 50); }
  }

  /* --- theme ------------------------------------------------------------------------------ */
  function setTheme(theme) {
    document.documentElement.setAttribute("data-bs-theme", theme);
    try { localStorage.setItem("servio-theme", theme); } catch (e) { /* ignore */ }
    $all("[data-theme-toggle]").forEach(function (b) {
      b.setAttribute("aria-pressed", theme === "dark" ? "true" : "false");
    });
  }
  document.addEventListener("click", function (ev) {
    var toggle = ev.target.closest("[data-theme-toggle]");
    if (!toggle) return;
    var now = document.documentElement.getAttribute("data-bs-theme") === "dark" ? "light" : "dark";
    setTheme(now);
    announce(now === "dark" ? "Dark theme" : "Light theme");
  });

  /* --- SLA countdowns ---------------------------------------------------------------------- */
  function left(seconds) {
    seconds = Math.floor(Math.abs(seconds));
    var d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600),
        m = Math.floor((seconds % 3600) / 60);
    if (d) return d + "d " + h + "h";
    if (h) return h + "h " + m + "m";
    return m + "m";
  }
  function tick() {
    var now = Date.now();
    $all("[data-sla-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-sla-due"));
      if (isNaN(due)) return;
      var rest = (due - now) / 1000, prefix = el.getAttribute("data-sla-label") || "";
      var words = el.getAttribute("data-sla-words");  // a queue row names its clock
      if (words) {
        el.textContent = words + (rest < 0 ? " overdue by " : " due in ") + left(rest);
      } else {
        el.textContent = prefix + (rest < 0 ? "overdue " + left(rest) : left(rest) + " left");
      }
      el.classList.remove("bg-green-lt", "bg-orange-lt", "bg-red-lt");
      el.classList.add(rest < 0 ? "bg-red-lt" : rest < 3600 ? "bg-orange-lt" : "bg-green-lt");
    });
  }
  window.setInterval(tick, 15000);

  /* --- rows of a queue: j/k to move, o or Enter to open ------------------------------------ */
  function rows() { return $all("[data-ticket-row]"); }
  function currentRow() { return $("[data-ticket-row].is-current"); }
  function moveRow(step) {
    var list = rows();
    if (!list.length) return;
    var i = list.indexOf(currentRow());
    var next = list[Math.max(0, Math.min(list.length - 1, i < 0 ? 0 : i + step))];
    list.forEach(function (r) { r.classList.remove("is-current"); r.removeAttribute("aria-current"); });
    next.classList.add("is-current");
    next.setAttribute("aria-current", "true");
    var link = $("a[data-ticket-link]", next);
    if (link) link.focus({ preventScroll: false });
  }
  function openRow() {
    var row = currentRow() || rows()[0];
    var link = row && $("a[data-ticket-link]", row);
    if (link) window.location.href = link.href;
  }

  /* --- pop-overs (details[data-popover]): a close button, Escape, one open at a time ------- */
  function closePopover(details, focus) {
    details.open = false;
    var summary = details.querySelector(":scope > summary");
    if (focus && summary) summary.focus();
  }
  document.addEventListener("click", function (ev) {
    var close = ev.target.closest && ev.target.closest("[data-popover-close]");
    var details = close && close.closest("details[data-popover]");
    if (details) { ev.preventDefault(); closePopover(details, true); }
  });
  document.addEventListener("toggle", function (ev) {
    var details = ev.target;
    if (!details.matches || !details.matches("details[data-popover]") || !details.open) return;
    $all("details[data-popover][open]").forEach(function (other) { if (other !== details) other.open = false; });
    var first = $("select, textarea, input:not([type=hidden])", details);
    if (first) first.focus();
  }, true);

  /* --- keyboard shortcuts (listed on ?) ---------------------------------------------------- */
  var pendingG = false;
  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return el.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }
  function go(name) {
    var link = $('[data-shortcut-go="' + name + '"]');
    if (link) window.location.href = link.href;
  }
  function focusComposer(internal) {
    var box = $("#composer-body");
    if (!box) return;
    var radio = $(internal ? "#composer-internal" : "#composer-public");
    if (radio) { radio.checked = true; radio.dispatchEvent(new Event("change", { bubbles: true })); }
    box.focus();
    box.scrollIntoView({ block: "center" });
  }
  function clickShortcut(name) {
    var el = $('[data-shortcut="' + name + '"]');
    if (el) { el.click(); return true; }
    return false;
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === "Escape") {
      var open = $all("details[data-popover][open]");
      if (open.length) { ev.preventDefault(); open.forEach(function (d) { closePopover(d, true); }); return; }
      var active = document.activeElement;
      if (typing(active)) active.blur();
      return;
    }
    if (typing(ev.target)) return;
    if (pendingG) {
      pendingG = false;
      var target = { q: "queue", d: "dashboard", p: "portal", s: "settings", m: "mine", u: "unassigned" }[ev.key];
      if (target) { ev.preventDefault(); go(target); }
      return;
    }
    switch (ev.key) {
      case "g": pendingG = true; window.setTimeout(function () { pendingG = false; }, 1500); break;
      case "j": ev.preventDefault(); moveRow(1); break;
      case "k": ev.preventDefault(); moveRow(-1); break;
      case "o": case "Enter": if (rows().length) { ev.preventDefault(); openRow(); } break;
      case "r": if ($("#composer-body")) { ev.preventDefault(); focusComposer(false); } break;
      case "n": if ($("#composer-internal")) { ev.preventDefault(); focusComposer(true); } break;
      case "a": if (clickShortcut("assign-me")) ev.preventDefault(); break;
      case "c": if (clickShortcut("new")) ev.preventDefault(); break;
      case "i": if (openPopover("#canned-picker")) ev.preventDefault(); break;
      case "/": var search = $("#global-search"); if (search) { ev.preventDefault(); search.focus(); search.select(); } break;
      case "?": ev.preventDefault(); var help = $("#shortcuts-dialog"); if (help && help.showModal) help.showModal(); break;
      default: break;
    }
  });

  /* --- attachments by drag and drop -------------------------------------------------------- */
  function showFiles(zone, input) {
    var list = $("[data-dropzone-list]", zone);
    if (!list) return;
    var names = Array.prototype.map.call(input.files, function (f) { return f.name; });
    list.textContent = names.length ? names.join(", ") : "";
    if (names.length) announce(names.length + " file(s) ready to send");
  }
  document.addEventListener("dragover", function (ev) {
    var zone = ev.target.closest && ev.target.closest("[data-dropzone]");
    if (zone) { ev.preventDefault(); zone.classList.add("is-dragover"); }
  });
  document.addEventListener("dragleave", function (ev) {
    var zone = ev.target.closest && ev.target.closest("[data-dropzone]");
    if (zone) zone.classList.remove("is-dragover");
  });
  document.addEventListener("drop", function (ev) {
    var zone = ev.target.closest && ev.target.closest("[data-dropzone]");
    if (!zone) return;
    ev.preventDefault();
    zone.classList.remove("is-dragover");
    var input = $("input[type=file]", zone);
    if (input && ev.dataTransfer && ev.dataTransfer.files.length) {
      input.files = ev.dataTransfer.files;
      showFiles(zone, input);
    }
  });
  document.addEventListener("change", function (ev) {
    var input = ev.target;
    if (input.matches && input.matches("[data-dropzone] input[type=file]")) {
      showFiles(input.closest("[data-dropzone]"), input);
    }
    if (input.matches && input.matches("[data-select-all]")) {
      $all("input[name=tickets]").forEach(function (b) { b.checked = input.checked; });
    }
    if (input.matches && input.matches("[data-select-all], input[name=tickets]")) countSelected();
    if (input.matches && input.matches("input[name=visibility]")) {
      var form = input.closest("form");
      var internal = input.value === "internal" && input.checked;
      if (form) {
        form.classList.toggle("is-internal", internal);
        var send = $("[data-label-internal]", form);
        if (send) {
          send.textContent = send.getAttribute(internal ? "data-label-internal" : "data-label-public");
          send.classList.toggle("btn-warning", internal);
          send.classList.toggle("btn-primary", !internal);
        }
      }
    }
  });

  /* --- pop-overs: searchable pickers, the canned-response picker ---------------------------- */
  /* A <details data-popover> opens a panel; Escape or a click elsewhere closes it. A picker's
     search box hides the options that do not match; its button names what is chosen. */
  function openPopover(sel) {
    var box = $(sel);
    if (!box) return false;
    box.open = true;
    focusIn(box);
    return true;
  }
  function focusIn(box) {
    var first = $("[data-picker-search]", box) || $("[data-autofocus]", box);
    if (first) first.focus();
  }
  function closePopover(box, refocus) {
    box.open = false;
    var summary = $("summary", box);
    if (refocus && summary) summary.focus();
  }
  function options(box) { return $all(".picker-list > *", box); }
  function visibleOptions(box) { return options(box).filter(function (o) { return !o.hidden; }); }
  document.addEventListener("toggle", function (ev) {
    var box = ev.target;
    if (box.matches && box.matches("details[data-popover]") && box.open) focusIn(box);
  }, true);
  document.addEventListener("input", function (ev) {
    var search = ev.target;
    if (!search.matches || !search.matches("[data-picker-search]")) return;
    var box = search.closest("details"), words = search.value.trim().toLowerCase();
    options(box).forEach(function (o) { o.hidden = words && o.textContent.toLowerCase().indexOf(words) < 0; });
    var none = $(".picker-none", box);
    if (none) none.hidden = visibleOptions(box).length > 0;
  });
  document.addEventListener("keydown", function (ev) {
    var box = ev.target.closest && ev.target.closest("details[data-popover][open]");
    if (!box) return;
    if (ev.key === "Escape") {
      ev.preventDefault();
      ev.stopPropagation();
      closePopover(box, true);
    } else if ((ev.key === "Enter" || ev.key === "ArrowDown") && ev.target.matches("[data-picker-search]")) {
      ev.preventDefault();  // Enter in a search box must not send the form around it
      var first = visibleOptions(box)[0];
      var target = first && $("input, button", first);
      if (target) target.focus();
    } else if ((ev.key === "ArrowDown" || ev.key === "ArrowUp") && ev.target.closest(".picker-list")) {
      ev.preventDefault();
      var list = visibleOptions(box), at = list.indexOf(ev.target.closest(".picker-list > *"));
      var next = list[at + (ev.key === "ArrowDown" ? 1 : -1)];
      if (next) $("input, button", next).focus();
      else if (ev.key === "ArrowUp") $("[data-picker-search]", box).focus();
    }
  }, true);
  document.addEventListener("click", function (ev) {
    $all("details[data-popover][open]").forEach(function (box) {
      if (!box.contains(ev.target)) closePopover(box, false);
    });
    var insert = ev.target.closest && ev.target.closest("[data-canned-insert]");
    if (insert) insertCanned(insert);
  });
  document.addEventListener("change", function (ev) {
    var input = ev.target, picker = input.closest && input.closest("[data-picker]");
    if (!picker || input.type !== "checkbox") return;
    var chosen = $("[data-picker-chosen]", picker);
    var names = $all("input:checked", picker).map(function (b) { return b.parentNode.textContent.trim(); });
    if (chosen) chosen.textContent = names.length ? names.join(", ") : chosen.getAttribute("data-picker-empty");
  });
  document.addEventListener("focusin", function (ev) {
    if (ev.target.id === "composer-body") ev.target.setAttribute("data-caret", "");
  });
  document.addEventListener("submit", function (ev) {
    $all("details[data-popover][open]", ev.target).forEach(function (box) { closePopover(box, false); });
  });
  function insertCanned(button) {
    var tpl = $("#canned-text"), box = $(button.getAttribute("data-canned-insert"));
    if (!tpl || !box) return;
    var text = tpl.content.textContent.trim();
    var start = box.selectionStart, end = box.selectionEnd, value = box.value;
    if (box.hasAttribute("data-caret") && value) {  // where the agent left the cursor
      box.value = value.slice(0, start) + text + value.slice(end);
      box.setSelectionRange(start + text.length, start + text.length);
    } else {
      box.value = (value ? value.replace(/\s+$/, "") + "\n\n" : "") + text;
    }
    var picker = button.closest("details[data-popover]");
    if (picker) closePopover(picker, false);
    box.focus();
    announce("Canned response inserted into the reply");
  }

  /* --- fields that depend on a choice ([data-refresh]): asked again from the server when the
     choice changes (bound here, once, so a control that was just swapped in works at once) -- */
  document.addEventListener("change", function (ev) {
    var el = ev.target;
    if (!el.matches || !el.matches("[data-refresh]") || !window.htmx) return;
    var values = {};
    [el].concat($all(el.getAttribute("data-refresh-include") || "#none")).forEach(function (field) {
      if (field.name) values[field.name] = field.value;
    });
    var context = { target: el.getAttribute("data-refresh-target"), swap: "outerHTML", values: values };
    if (el.hasAttribute("data-refresh-select")) context.select = el.getAttribute("data-refresh-select");
    window.htmx.ajax("GET", el.getAttribute("data-refresh"), context);
  });

  /* --- bulk selection: how many are selected; the selection survives a bulk action --------- */
  function countSelected() {
    var n = $all("input[name=tickets]:checked").length;
    $all("[data-selected-count]").forEach(function (el) { el.textContent = n ? n + " selected" : ""; });
  }
  function keepSelected() {
    var form = $("#bulk-form[data-keep-selected]");
    var keep = form ? form.getAttribute("data-keep-selected").split(" ").filter(Boolean) : [];
    if (form) form.removeAttribute("data-keep-selected");  // once: later choices are the agent's
    if (keep.length) {
      $all("input[name=tickets]").forEach(function (b) { if (keep.indexOf(b.value) >= 0) b.checked = true; });
    }
    countSelected();
  }

  /* --- htmx: keep an open inline editor, announce swaps ------------------------------------ */
  document.addEventListener("htmx:beforeRequest", function (ev) {
    var el = ev.detail.elt;
    // An open editor or pop-over keeps what is being typed: its part waits to be reloaded.
    if (el && el.hasAttribute && el.hasAttribute("data-skip-when-editing") &&
        ($(".inline-editor") || $("details[data-popover][open]", el))) {
      ev.preventDefault();
    }
  });
  document.addEventListener("htmx:afterSwap", function (ev) {
    tick();
    keepSelected();
    var target = ev.detail.target;
    var message = target && target.getAttribute && target.getAttribute("data-announce");
    if (message) announce(message);
    var focus = target && ($("[data-autofocus]", target) ||
      $(".inline-editor input:not([type=hidden]), .inline-editor select, .inline-editor textarea", target));
    if (focus) focus.focus();
  });
  document.addEventListener("htmx:responseError", function (ev) {
    announce("The server could not do that (" + ev.detail.xhr.status + "). Reload the page and try again.");
  });

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    keepSelected();
    setTheme(document.documentElement.getAttribute("data-bs-theme") || "light");
  });
})();
