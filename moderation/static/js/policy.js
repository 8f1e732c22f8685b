// The policy page: a slider beside each threshold's number input, kept in step both ways.
// The number input is the form field (named after the policy path); sliders are shown only
// when this script runs, so without it the page is a plain form. No inline handlers: the CSP
// allows only this file.
(function () {
  "use strict";

  const page = document.querySelector("[data-policy-page]");
  if (!page) return;

  function clamp(value) {
    return Math.min(1, Math.max(0, value));
  }

  for (const slider of page.querySelectorAll("input[data-slider-for]")) {
    const number = document.getElementById(slider.dataset.sliderFor);
    if (!number) continue;
    const row = number.closest(".level");

    function fromNumber() {
      const value = parseFloat(number.value);
      const off = number.value.trim() === "" || Number.isNaN(value);
      // An empty level is switched off: the slider rests at the right end, greyed.
      slider.value = off ? "1" : String(clamp(value));
      row.classList.toggle("off", off);
    }

    slider.addEventListener("input", function () {
      number.value = Number(slider.value).toFixed(2);
      row.classList.remove("off");
      row.classList.add("changed-here");
      number.dispatchEvent(new Event("change", { bubbles: true }));
    });
    number.addEventListener("input", fromNumber);
    fromNumber();
    slider.hidden = false;
  }

  // Reject below review is refused on save; say so while the editor moves the values.
  for (const row of page.querySelectorAll("table.thresholds tbody tr")) {
    const [review, reject] = row.querySelectorAll("input[data-level]");
    if (!review || !reject) continue;
    const hint = document.createElement("p");
    hint.className = "live-hint";
    hint.setAttribute("aria-live", "polite");
    reject.closest("td").append(hint);

    // The server's own message for these values, when the page shows a refused save.
    const refused = [review.value, reject.value].join("|");
    const serverSaysSo = Boolean(reject.closest(".level").querySelector(".field-errors"));

    function check() {
      const low = parseFloat(review.value);
      const high = parseFloat(reject.value);
      const wrong = !Number.isNaN(low) && !Number.isNaN(high) && high < low;
      const said = serverSaysSo && [review.value, reject.value].join("|") === refused;
      hint.textContent = wrong && !said ? "Reject is below review." : "";
      reject.closest(".level").classList.toggle("warn", wrong);
    }
    review.addEventListener("input", check);
    reject.addEventListener("input", check);
    page.addEventListener("change", check);
    check();
  }

  // A refused save or preview: the list of what needs attention takes focus (read out, and its
  // links lead to the fields).
  const refusal = document.querySelector("[data-form-errors]");
  if (refusal) refusal.focus();

  // After a preview, bring its result into view (the server put it in the side panel).
  const result = page.querySelector("[data-preview-result]");
  if (result && window.matchMedia("(max-width: 900px)").matches) {
    result.scrollIntoView({ block: "start" });
  }
})();
