// Safety-plan editor: the add / remove / move buttons of each section do their work in the page, without
// a round trip. Without this script the same buttons post the form and the server sends the page back
// rearranged (cases.forms.SafetyPlanEditor.rearranged); the row names stay those Django's formsets read.
(function () {
  "use strict";
  var form = document.getElementById("plan-form");
  if (!form) { return; }

  function renumber(fieldset) {
    var section = fieldset.getAttribute("data-section");
    var rows = fieldset.querySelectorAll("ol.rows > li.plan-row");
    var pattern = new RegExp("^(id_)?" + section + "-\\d+-");
    rows.forEach(function (row, i) {
      row.querySelectorAll("[name],[id],[for]").forEach(function (el) {
        ["name", "id", "for"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value && pattern.test(value)) {
            el.setAttribute(attr, value.replace(pattern, function (_m, id) { return (id || "") + section + "-" + i + "-"; }));
          }
        });
      });
      row.querySelectorAll("button[name=row]").forEach(function (button) {
        var parts = button.value.split(":");
        button.value = parts[0] + ":" + section + ":" + i;
        if (parts[0] === "up") { button.disabled = i === 0; }
        if (parts[0] === "down") { button.disabled = i === rows.length - 1; }
      });
    });
    form.querySelector("input[name='" + section + "-TOTAL_FORMS']").value = rows.length;
  }

  function clear(row) {
    row.querySelectorAll("input, textarea").forEach(function (el) { el.value = ""; });
    row.querySelectorAll("select").forEach(function (el) { el.selectedIndex = 0; });
    row.querySelectorAll(".errorlist").forEach(function (el) { el.remove(); });
    row.classList.remove("has-error");
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("button[name=row]");
    if (!button) { return; }
    var fieldset = button.closest("fieldset.plan-rows");
    var list = fieldset.querySelector("ol.rows");
    var verb = button.value.split(":")[0];
    var row = button.closest("li.plan-row");
    var rows = list.querySelectorAll("li.plan-row");
    if (verb === "add" && rows.length >= 50) { return; }  // the server says why
    event.preventDefault();
    var focus = button;
    if (verb === "add") {
      var fresh = rows[rows.length - 1].cloneNode(true);
      clear(fresh);
      list.appendChild(fresh);
      focus = fresh.querySelector("input, select");
    } else if (verb === "remove") {
      if (rows.length === 1) {
        clear(row);
        focus = row.querySelector("input, select");
      } else {
        var next = row.nextElementSibling || row.previousElementSibling;
        row.remove();
        focus = next.querySelector("input, select");
      }
    } else if (verb === "up" && row.previousElementSibling) {
      list.insertBefore(row, row.previousElementSibling);
    } else if (verb === "down" && row.nextElementSibling) {
      list.insertBefore(row.nextElementSibling, row);
    }
    renumber(fieldset);
    if (focus && focus.disabled) { focus = row.querySelector("button[name=row]:not([disabled])"); }
    if (focus) { focus.focus(); }
  });
})();
