// The review queue and card: keyboard work, actions sent with fetch, clear session-expiry handling.
// Without this script every action still works as a plain form post; with it, decisions do not
// reload the page. No inline handlers anywhere: the CSP allows only this file.
(function () {
  "use strict";

  const root = document.querySelector("[data-review-page]");
  if (!root) return;

  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const loginMeta = document.querySelector('meta[name="login-url"]');
  const loginUrl = loginMeta ? loginMeta.content : "/auth/login";
  const banner = document.getElementById("session-banner");
  const toast = document.getElementById("toast");
  const help = document.getElementById("help");
  const picker = document.getElementById("reason-picker");
  const bulkForm = document.querySelector("[data-bulk-form]");
  const reasonCodes = Array.from(picker.querySelectorAll("[data-reason-code]")).map((li) => li.dataset.reasonCode);
  const items = Array.from(document.querySelectorAll("[data-comment]"));
  const isCard = root.dataset.reviewPage === "card";

  let current = -1;
  let pickerMode = null; // "one" or "bulk" while waiting for a reason digit
  let sessionGone = false;
  let claimedId = null;
  let claimingId = null;
  let decidedOnPage = false;
  let toastTimer = null;

  // --- talking to the server ------------------------------------------------------------

  async function post(url, data) {
    if (sessionGone) { showSessionExpired(); return null; }
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken, "Accept": "application/json" },
      });
    } catch (error) {
      showToast("The server could not be reached; nothing was changed. Try again.", true);
      return null;
    }
    if (response.status === 401) {
      let message = null;
      try { message = (await response.json()).message; } catch (e) { /* not JSON */ }
      showSessionExpired(message);
      return null;
    }
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!body) {
      showToast("Unexpected answer from the server (HTTP " + response.status + "); reload the page.", true);
      return null;
    }
    return { status: response.status, body: body };
  }

  function showSessionExpired(message) {
    sessionGone = true;
    banner.textContent = "";
    banner.append((message || "Your session has expired.") + " Nothing was changed. ");
    const link = document.createElement("a");
    link.href = loginUrl;
    link.textContent = "Sign in again";
    banner.append(link);
    banner.hidden = false;
    document.body.classList.add("session-expired");
    link.focus();
  }

  function showToast(message, refused) {
    toast.textContent = message;
    toast.classList.toggle("refused", Boolean(refused));
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toast.hidden = true; }, 7000);
  }

  // --- current comment and selection -----------------------------------------------------

  function setCurrent(index, options) {
    if (!items.length) return;
    const quiet = options && options.quiet; // on page load: mark it, but leave focus and scroll alone
    index = Math.max(0, Math.min(items.length - 1, index));
    if (current >= 0 && items[current]) items[current].classList.remove("current");
    current = index;
    const item = items[current];
    item.classList.add("current");
    if (!quiet) {
      item.focus({ preventScroll: true });
      item.scrollIntoView({ block: "nearest" });
    }
    // Opening a card claims its comment; passing over one in the list does not (see startActing).
    if (isCard) claimIfOpen(item);
  }

  function currentItem() {
    return current >= 0 ? items[current] : null;
  }

  function move(step) {
    if (!items.length) return;
    if (current < 0) { setCurrent(0); return; }
    const next = current + step;
    if (next >= items.length && step > 0) { endOfPage(); return; }
    setCurrent(next);
  }

  function endOfPage() {
    if (isCard) {
      // One comment on a card: past it is the list it came from.
      const back = document.querySelector("[data-back-to-list]");
      if (back) window.location.href = back.href;
      return;
    }
    const nextLink = document.querySelector("[data-next-page]");
    if (decidedOnPage) {
      // Decided comments have left this list: reloading shows what is still waiting.
      window.location.reload();
    } else if (nextLink) {
      window.location.href = nextLink.href;
    } else {
      showToast("End of the list.");
    }
  }

  function checkbox(item) {
    return item.querySelector("[data-select]");
  }

  function toggleSelected(item) {
    const box = checkbox(item);
    if (!box || box.disabled) return;
    box.checked = !box.checked;
    syncSelection();
  }

  function selectedItems() {
    return items.filter((item) => checkbox(item) && checkbox(item).checked);
  }

  function syncSelection() {
    items.forEach((item) => item.classList.toggle("selected", Boolean(checkbox(item) && checkbox(item).checked)));
    const count = document.querySelector("[data-selected-count]");
    if (count) count.textContent = selectedItems().length + " selected";
  }

  // --- claims ---------------------------------------------------------------------------

  function claimIfOpen(item) {
    if (!item || !["queued", "pending"].includes(item.dataset.status) || item.classList.contains("decided")) return;
    if (claimedId === item.dataset.id || claimingId === item.dataset.id) return;
    claim(item);
  }

  // In the list, a comment is claimed once the moderator starts acting on it (a reason or a note
  // to choose), so that others see it is being worked on; moving past it with j/k claims nothing.
  function startActing(item) {
    if (!isCard) claimIfOpen(item);
  }

  async function claim(item) {
    const data = new FormData();
    if (claimedId && claimedId !== item.dataset.id) data.append("release", claimedId);
    claimingId = item.dataset.id; // one claim in flight per comment, however many keys are typed
    let result;
    try {
      result = await post(item.dataset.claimUrl, data);
    } finally {
      claimingId = null;
    }
    if (!result) return;
    const badge = item.querySelector("[data-claim]");
    const outcome = result.body.results && result.body.results[0];
    if (result.status === 200 && outcome && outcome.ok) {
      claimedId = item.dataset.id;
      if (badge && ["queued", "pending"].includes(outcome.status)) {
        badge.textContent = outcome.message;
        badge.className = "badge badge-mine";
        badge.hidden = false;
      }
    } else if (badge) {
      badge.textContent = result.body.message;
      badge.className = "badge badge-claimed";
      badge.hidden = false;
    }
  }

  // --- decisions ------------------------------------------------------------------------

  function decisionForm(item, decision) {
    const input = item.querySelector('[data-decision-form] input[name="decision"][value="' + decision + '"]');
    return input ? input.form : null;
  }

  // The list tabs' counts ("Queued 12"): a decision moves one comment from its list to another.
  function shiftCount(from, to) {
    if (from === to) return;
    [[from, -1], [to, 1]].forEach(([name, step]) => {
      const count = document.querySelector('[data-count="' + name + '"]');
      if (!count || !/^[0-9,]+$/.test(count.textContent.trim())) return; // "1,000+" stays as it is
      const value = Math.max(0, Number(count.textContent.replace(/,/g, "")) + step);
      count.textContent = value.toLocaleString("en-US");
    });
  }

  function showStatus(item, status) {
    const label = item.querySelector("[data-status-label]"); // the card's heading says the status
    if (!label) return;
    label.textContent = status;
    label.className = "status status-" + status;
  }

  function markDecided(item, outcome) {
    shiftCount(item.dataset.status, outcome.status);
    showStatus(item, outcome.status);
    item.classList.add("decided");
    // A decided comment is nobody's to review any more: its claim badge goes with the claim.
    const badge = item.querySelector("[data-claim]");
    if (badge && badge.classList.contains("badge-mine")) badge.hidden = true;
    if (claimedId === item.dataset.id) claimedId = null;
    item.dataset.status = outcome.status;
    item.querySelectorAll(".actions button, .actions select, .actions input, [data-select]").forEach((el) => { el.disabled = true; });
    const box = checkbox(item);
    if (box) box.checked = false;
    decidedOnPage = true;
  }

  function markUndone(item, outcome) {
    shiftCount(item.dataset.status, outcome.status);
    showStatus(item, outcome.status);
    item.classList.remove("decided");
    item.dataset.status = outcome.status;
    item.querySelectorAll(".actions button, .actions select, .actions input, [data-select]").forEach((el) => { el.disabled = false; });
    item.querySelectorAll('input[name="expected_status"]').forEach((el) => { el.value = outcome.status; });
  }

  function showOutcome(item, outcome) {
    const line = item.querySelector("[data-outcome]");
    if (!line) return;
    line.textContent = outcome.message;
    line.classList.toggle("ok", outcome.ok);
    line.classList.toggle("refused", !outcome.ok);
  }

  function itemById(id) {
    return items.find((item) => item.dataset.id === String(id));
  }

  async function decide(item, decision, reasonCode) {
    if (!item || item.classList.contains("decided")) return;
    const form = decisionForm(item, decision);
    if (!form) { showToast("This comment is already " + decision + ".", true); return; }
    const data = new FormData(form);
    if (reasonCode) data.set("reason_code", reasonCode);
    if (decision === "rejected" && !data.get("reason_code")) {
      openPicker("one");
      return;
    }
    const result = await post(form.action, data);
    if (!result) return;
    const outcome = (result.body.results || [])[0] || { ok: false, message: result.body.message };
    showOutcome(item, outcome);
    if (outcome.ok) {
      markDecided(item, outcome);
      showToast(outcome.message + (isCard ? " Press u to undo, j for the list." : " Press u to undo."));
      if (!isCard) nextUndecided();
    } else {
      showToast(outcome.message, true);
      if (outcome.status && outcome.status !== item.dataset.status && ["approved", "rejected"].includes(outcome.status)) {
        markDecided(item, outcome);
      }
    }
  }

  function nextUndecided() {
    // The next comment still waiting below the current one, else the first one above it.
    const order = items.slice(current + 1).concat(items.slice(0, current));
    const next = order.find((item) => !item.classList.contains("decided"));
    if (next) { setCurrent(items.indexOf(next)); return; }
    showToast("Page done. Press j to load what is still waiting.");
  }

  async function bulk(decision, reasonCode) {
    const chosen = selectedItems();
    if (!bulkForm) return;
    if (!chosen.length) { showToast("Select comments first with x.", true); return; }
    const data = new FormData(bulkForm);
    data.delete("ids");
    chosen.forEach((item) => data.append("ids", item.dataset.id));
    data.set("decision", decision);
    if (reasonCode) data.set("reason_code", reasonCode);
    const result = await post(bulkForm.action, data);
    if (!result) return;
    if (result.status !== 200) { showToast(result.body.message, true); return; }
    (result.body.results || []).forEach((outcome) => {
      const item = itemById(outcome.id);
      if (!item) return;
      showOutcome(item, outcome);
      if (outcome.ok) markDecided(item, outcome);
    });
    syncSelection();
    showToast(result.body.message + (result.body.results.some((o) => o.ok) ? " Press u to undo." : ""),
      !result.body.ok);
    // The current comment was among them: go on to one still waiting, as after a single decision.
    const item = currentItem();
    if (!isCard && item && item.classList.contains("decided")
        && items.some((other) => !other.classList.contains("decided"))) nextUndecided();
  }

  async function undo() {
    const result = await post(root.dataset.undoUrl, new FormData());
    if (!result) return;
    if (result.status !== 200) { showToast(result.body.message, true); return; }
    (result.body.results || []).forEach((outcome) => {
      const item = itemById(outcome.id);
      if (!item) return;
      showOutcome(item, outcome);
      if (outcome.ok) markUndone(item, outcome);
    });
    showToast(result.body.message, !result.body.ok);
    const first = (result.body.results || []).find((o) => o.ok && itemById(o.id));
    if (first) setCurrent(items.indexOf(itemById(first.id)));
  }

  // --- the reason picker and help --------------------------------------------------------

  function openPicker(mode) {
    if (mode === "bulk" && !selectedItems().length) { showToast("Select comments first with x.", true); return; }
    if (mode === "one" && !currentItem()) return;
    if (mode === "one") startActing(currentItem());
    pickerMode = mode;
    picker.querySelector("[data-picker-title]").textContent =
      mode === "bulk" ? "Reject " + selectedItems().length + " selected with which reason?" : "Reject with which reason?";
    picker.hidden = false;
    // Reasons are buttons too (a mouse, a touch screen, Tab and Enter), so focus goes into the picker.
    picker.querySelector("[data-pick]").focus({ preventScroll: true });
  }

  function closePicker() {
    if (!pickerMode && picker.hidden) return;
    pickerMode = null;
    picker.hidden = true;
    const item = currentItem();
    if (item && picker.contains(document.activeElement)) item.focus({ preventScroll: true });
  }

  function pick(code) {
    const mode = pickerMode;
    closePicker();
    if (mode === "bulk") bulk("rejected", code); else if (mode === "one") decide(currentItem(), "rejected", code);
  }

  function toggleHelp() {
    if (help.open) help.close(); else help.showModal();
  }

  // --- keyboard -------------------------------------------------------------------------

  function typingIn(target) {
    return target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (help.open) return; // the dialog handles Esc itself
    if (typingIn(event.target)) {
      if (event.key === "Escape") {
        event.target.blur();
        const item = currentItem() || event.target.closest("[data-comment]");
        if (item) setCurrent(items.indexOf(item));
      }
      return;
    }
    if (pickerMode) {
      if (["Tab", "Enter", " "].includes(event.key)) return; // moving between and pressing its buttons
      event.preventDefault();
      if (/^[1-9]$/.test(event.key) && reasonCodes[Number(event.key) - 1]) {
        pick(reasonCodes[Number(event.key) - 1]);
      } else if (event.key === "Escape") {
        closePicker();
      }
      return;
    }
    const item = currentItem();
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "a": if (item) decide(item, "approved"); break;
      case "r": openPicker("one"); break;
      case "A": bulk("approved"); break;
      case "R": openPicker("bulk"); break;
      case "x": if (item) toggleSelected(item); break;
      case "u": undo(); break;
      case "n": if (item && item.querySelector("[data-note]")) item.querySelector("[data-note]").focus(); break;
      case "o":
      case "Enter":
        // On the comment itself, or with nothing focused (the page just loaded: the first comment
        // is current); not on a button or link inside it, which Enter presses.
        if (item && item.dataset.cardUrl && (event.target === item || event.target === document.body)) {
          window.location.href = item.dataset.cardUrl;
        } else return;
        break;
      case "?": toggleHelp(); break;
      case "Escape": closePicker(); break;
      default: return;
    }
    event.preventDefault();
  });

  // --- forms sent with fetch (the same forms work without this script) -------------------

  picker.addEventListener("click", (event) => {
    const button = event.target.closest("[data-pick], [data-pick-cancel]");
    if (!button) return;
    if (button.matches("[data-pick-cancel]")) closePicker(); else pick(button.dataset.pick);
  });

  // A click or touch outside the picker cancels it, as Esc does.
  document.addEventListener("pointerdown", (event) => {
    if (pickerMode && !picker.contains(event.target)) closePicker();
  });

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (pickerMode && !(form.matches("[data-bulk-form]") && event.submitter && event.submitter.value === "rejected")) {
      closePicker(); // a decision sent with the form's own reason: the picker asked for nothing
    }
    if (form.matches("[data-decision-form]")) {
      event.preventDefault();
      const item = form.closest("[data-comment]");
      setCurrent(items.indexOf(item));
      const decision = form.querySelector('input[name="decision"]').value;
      decide(item, decision, decision === "rejected" ? form.querySelector("[data-reason]").value : null);
    } else if (form.matches("[data-bulk-form]")) {
      event.preventDefault();
      const decision = event.submitter ? event.submitter.value : "approved";
      const reason = form.querySelector("[data-bulk-reason]");
      if (decision === "rejected" && (!reason || !reason.value)) { openPicker("bulk"); return; }
      bulk(decision, decision === "rejected" ? reason.value : null);
    }
  });

  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-select]")) syncSelection();
  });

  // Choosing a reason or writing a note is acting on the comment (it claims it); passing through
  // those fields with Tab is not, as moving with j or k is not.
  ["change", "input"].forEach((type) => document.addEventListener(type, (event) => {
    if (event.target.matches("[data-reason], [data-note]")) startActing(event.target.closest("[data-comment]"));
  }));

  items.forEach((item, index) => {
    item.addEventListener("click", (event) => {
      if (index !== current && !event.target.closest("a, button, select, input")) setCurrent(index);
    });
  });

  // In the list, a long comment shows its first lines and a button for the rest (a moderator
  // scans many; one long comment should not fill the screen). The card always shows it whole.
  if (!isCard) {
    document.querySelectorAll("[data-comment-body]").forEach((body) => {
      body.classList.add("clamped");
      if (body.scrollHeight <= body.clientHeight + 2) { body.classList.remove("clamped"); return; }
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button-link show-all";
      button.textContent = "Show all";
      button.setAttribute("aria-expanded", "false");
      button.addEventListener("click", () => {
        const open = body.classList.toggle("clamped") === false;
        button.textContent = open ? "Show less" : "Show all";
        button.setAttribute("aria-expanded", String(open));
      });
      body.after(button);
    });
  }

  // A link in a comment (spam often is one) opens beside the tool, never in its place. Done on
  // the click, not by adding attributes: the comment's markup stays exactly the sanitiser's.
  document.addEventListener("click", (event) => {
    const link = event.target.closest("[data-comment-body] a[href]");
    if (!link || event.defaultPrevented || event.button !== 0) return;
    event.preventDefault();
    window.open(link.href, "_blank", "noopener,noreferrer");
  });

  if (items.length) setCurrent(0, { quiet: true });
  syncSelection();
})();
