// Starts a run without leaving the page and follows it until it ends.
(function () {
  "use strict";
  var panel = document.getElementById("run-panel");
  if (!panel) { return; }
  var labels = JSON.parse(panel.getAttribute("data-labels"));
  var dryRun = document.getElementById("dry-run-all");
  var buttons = document.querySelectorAll("form[data-run] button");

  function setBusy(busy) {
    buttons.forEach(function (button) { button.disabled = busy; });
  }

  function text(selector, value) {
    panel.querySelector(selector).textContent = value || "";
  }

  function progressText(progress) {
    if (!progress) { return ""; }
    var parts = [];
    if (progress.phase) { parts.push(labels.phases[progress.phase] || progress.phase); }
    if (progress.done !== undefined && progress.done !== null) {
      parts.push(progress.total ? progress.done + " / " + progress.total : String(progress.done));
    }
    if (progress.pages) { parts.push(labels.pages + " " + progress.pages); }
    return labels.progress + ": " + parts.join(", ");
  }

  function show(run) {
    panel.hidden = false;
    panel.setAttribute("data-state", run.state);
    panel.setAttribute("data-run-id", run.run_id);
    text(".run-job", labels.jobs[run.job] || run.job);
    text(".run-state", labels.states[run.state] || run.state);
    text(".run-progress", run.finished ? "" : progressText(run.progress));
    text(".run-result", run.result && run.result.summary ? labels.result + ": " + run.result.summary : "");
    text(".run-error", run.error ? labels.error + ": " + run.error : "");
  }

  function follow(runId) {
    fetch("/ui/proses/" + encodeURIComponent(runId) + "/json", {
      headers: { "Accept": "application/json" }, credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) { throw new Error(labels.lost + " (HTTP " + response.status + ")"); }
      return response.json();
    }).then(function (run) {
      show(run);
      if (run.finished) { setBusy(false); } else { window.setTimeout(function () { follow(runId); }, 800); }
    }).catch(function (error) {
      text(".run-error", String(error.message || error));
      setBusy(false);
    });
  }

  document.querySelectorAll("form[data-run]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = new URLSearchParams(new FormData(form));
      if (dryRun && dryRun.checked) { body.set("dry_run", "1"); }
      setBusy(true);
      panel.hidden = false;
      panel.setAttribute("data-state", "queued");
      text(".run-job", labels.jobs[form.getAttribute("data-run")] || "");
      text(".run-state", labels.states.queued);
      text(".run-progress", ""); text(".run-result", ""); text(".run-error", "");
      fetch(form.action, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) { throw new Error(data.message || ("HTTP " + response.status)); }
          return data;
        });
      }).then(function (run) {
        show(run);
        follow(run.run_id);
      }).catch(function (error) {
        panel.setAttribute("data-state", "failed");
        text(".run-state", labels.states.failed);
        text(".run-error", String(error.message || error));
        setBusy(false);
      });
    });
  });
}());
