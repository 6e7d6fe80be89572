// Threshold sliders: show what a threshold means (the false match rate it stands for) as it
// moves, and, on Compare, whether the pair would match. Pages work without this script.
"use strict";
function fmrText(fmr) {
  if (fmr >= 0.5) return Math.round(fmr * 100) + "%";
  return fmr > 0 ? "1 in " + Math.round(1 / fmr).toLocaleString("en") : "0";
}
document.querySelectorAll(".slider").forEach(function (box) {
  var table = JSON.parse(box.dataset.scores || "[]");
  var faces = box.dataset.faces === undefined ? null : Number(box.dataset.faces);
  var input = box.querySelector("input[type=range]");
  var output = box.querySelector("output");
  var meaning = box.querySelector(".meaning");
  function update() {
    var t = Number(input.value);
    var row = table[Math.round(t)] || { fmr: Math.pow(10, -(t <= 80 ? t / 20 : 4 + (t - 80) / 10)), fnmr: null };
    output.textContent = String(t);
    var text = "At " + t + ": about " + fmrText(row.fmr) + " impostor pairs score this high (false match rate)";
    if (row.fnmr !== null && row.fnmr !== undefined) text += "; about " + (row.fnmr * 100).toFixed(1) + "% of genuine pairs score below it";
    if (faces !== null) text += "; searching " + faces + " face(s), expect " + String(Number((row.fmr * faces).toPrecision(3))) + " false match(es) per search";
    meaning.textContent = text + ".";
    var sim = document.getElementById("similarity");
    var decision = document.getElementById("decision");
    if (sim && decision) {
      var s = Number(sim.dataset.similarity);
      decision.innerHTML = "";
      decision.append("At threshold " + t + " this pair is ");
      var strong = document.createElement("strong");
      strong.textContent = s >= t ? "a match" : "not a match";
      decision.append(strong, ".");
    }
  }
  input.addEventListener("input", update);
  update();
});
