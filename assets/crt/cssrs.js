// C-SSRS screener on the encounter page: shows the risk level the answers give, as they are given,
// by the same rule as cases.models.derive_cssrs_risk, and asks 6b ("within 3 months") only after a
// yes to question 6. A preview only: the server derives the level again on save and stores that.
(function () {
  "use strict";
  var form = document.getElementById("cssrs");
  var out = document.getElementById("cssrs-risk");
  if (!form || !out) { return; }
  var questions = ["wish_dead", "suicidal_thoughts", "method", "intent", "plan", "behavior"];
  var labels = { high: "High", moderate: "Moderate", low: "Low", none: "No risk identified" };
  var recency = document.getElementById("q-cssrs_behavior_past_3_months");

  function answer(name) {
    var checked = form.querySelector("input[data-cssrs='" + name + "']:checked");
    if (!checked || checked.value === "") { return null; }
    return checked.value === "yes";
  }

  function derive(a) {
    var asked = questions.some(function (name) { return a[name] !== null; });
    if (!asked) { return null; }
    if (a.intent || a.plan || (a.behavior && a.behavior_past_3_months)) { return "high"; }
    if (a.method || a.behavior) { return "moderate"; }
    if (a.wish_dead || a.suicidal_thoughts) { return "low"; }
    return "none";
  }

  function showRecency(shown) {
    if (!recency) { return; }
    recency.hidden = !shown;
    if (!shown) {  // an answer to a question not asked must not be sent
      var notAsked = recency.querySelector("input[value='']");
      if (notAsked) { notAsked.checked = true; }
    }
  }

  function update() {
    showRecency(answer("behavior") === true);
    var a = {};
    questions.concat(["behavior_past_3_months"]).forEach(function (name) { a[name] = answer(name); });
    var level = derive(a);
    out.textContent = level ? labels[level] : "not asked yet";
    out.className = "cssrs-risk badge " + (level || "");
    out.setAttribute("data-level", level || "");
  }

  form.addEventListener("change", update);
  update();
})();
