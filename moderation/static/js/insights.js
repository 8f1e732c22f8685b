// The policy page's extras: rescore progress that updates itself, and suggested thresholds that fill the form.
// Without this script both still work: reload the page for progress; a suggestion is a link that opens the
// policy page with the value filled from its query string. No inline handlers: the CSP allows only files.
(function () {
  "use strict";

  const POLL_MS = 2000;
  const FINISHED = ["done", "failed"];

  function pollJob(row) {
    const url = row.dataset.statusUrl;
    const bar = row.querySelector("[data-progress]");
    const text = row.querySelector("[data-progress-text]");
    const tick = function () {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("status " + response.status);
          return response.json();
        })
        .then(function (job) {
          row.dataset.state = job.state;
          bar.value = job.percent;
          bar.textContent = job.percent + "%";
          text.textContent = job.state + ": " + job.processed + " of " + job.total;
          row.querySelector("[data-changed]").textContent = job.changed;
          row.querySelector("[data-skipped]").textContent = job.skipped;
          if (FINISHED.indexOf(job.state) === -1) window.setTimeout(tick, POLL_MS);
        })
        .catch(function () {
          text.textContent += " (progress paused; reload the page)";
        });
    };
    window.setTimeout(tick, POLL_MS);
  }

  document.querySelectorAll("[data-rescore-job]").forEach(function (row) {
    if (FINISHED.indexOf(row.dataset.state) === -1) pollJob(row);
  });

  // On the policy page itself, a suggestion fills the form's fields instead of reloading the page.
  document.querySelectorAll("[data-form-values]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      let values;
      try { values = JSON.parse(link.dataset.formValues); } catch (error) { return; }
      const fields = Object.keys(values).map(function (name) {
        return [name, document.querySelectorAll('form [name="' + CSS.escape(name) + '"]')];
      });
      if (!fields.length || fields.some(function (pair) { return pair[1].length === 0; })) return;
      event.preventDefault();
      fields.forEach(function (pair) {
        pair[1].forEach(function (input) {
          input.value = values[pair[0]];
          input.dispatchEvent(new Event("input", { bubbles: true }));
          input.dispatchEvent(new Event("change", { bubbles: true }));
        });
      });
      fields[0][1][0].focus();
    });
  });

  // New lexicon terms refused: the form is at the foot of a long page, so its first field in error
  // takes focus (and comes into view) instead of leaving the editor at the top.
  const refusedTerm = document.querySelector('.lexicon-form [aria-invalid="true"]');
  if (refusedTerm) refusedTerm.focus();
})();
