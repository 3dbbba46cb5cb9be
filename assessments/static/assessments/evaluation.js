/* Reverse evaluation, the unit's side: the evaluation form's display
   conditions, progress, character counters, confirmation before sending, and
   drafts kept in this browser only (never sent to the server: a stored draft
   would link a unit to its answers). Without this script every question
   shows and the server applies the conditions; the form works the same. */
(function () {
    "use strict";

    function format(text, values) {
        return String(text || "").replace(/%\((\w+)\)s/g, function (_match, name) {
            return values[name] === undefined ? "" : values[name];
        });
    }

    // localStorage may be missing or refuse (private windows, full quota).
    var storage = (function () {
        try {
            var probe = "diandan.probe";
            window.localStorage.setItem(probe, probe);
            window.localStorage.removeItem(probe);
            return window.localStorage;
        } catch (error) {
            return null;
        }
    })();

    function draftRead(key) {
        if (!storage || !key) return null;
        try {
            var draft = JSON.parse(storage.getItem(key) || "null");
            return draft && draft.answers ? draft : null;
        } catch (error) {
            return null;
        }
    }

    function draftDelete(key) {
        if (!storage || !key) return;
        try {
            storage.removeItem(key);
        } catch (error) { /* nothing to do */ }
    }

    function timeText(stamp) {
        var when = new Date(stamp);
        var lang = document.documentElement.lang || undefined;
        var sameDay = when.toDateString() === new Date().toDateString();
        return sameDay
            ? when.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" })
            : when.toLocaleString(lang, {
                month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit"
            });
    }

    // The form ----------------------------------------------------------------

    function questionValue(question) {
        var kind = question.dataset.kind;
        var inputs = question.querySelectorAll("input, textarea");
        if (kind === "multiple") {
            var chosen = [];
            inputs.forEach(function (input) { if (input.checked) chosen.push(input.value); });
            return chosen;
        }
        if (kind === "count" || kind === "text") {
            return inputs.length ? inputs[0].value.trim() : "";
        }
        for (var i = 0; i < inputs.length; i++) {
            if (inputs[i].checked) return inputs[i].value;
        }
        return "";
    }

    function isAnswered(value) {
        return Array.isArray(value) ? value.length > 0 : value !== "";
    }

    function enhanceForm(form) {
        var questions = Array.prototype.slice.call(form.querySelectorAll("[data-question]"));
        var status = document.querySelector("[data-draft-status]");
        var progress = form.querySelector("[data-progress]");
        var key = form.dataset.draftKey;
        var saveTimer = null;
        var sending = false;

        // Display conditions, the rule of questionnaires.is_shown: a question
        // with a condition shows when the question it names is shown and
        // was answered with one of the values.
        function applyConditions() {
            var kept = {};
            questions.forEach(function (question) {
                var condition = question.dataset.showIf;
                var shown = true;
                if (condition) {
                    var values = (question.dataset.showIfValues || "")
                        .replace(/，/g, ",").split(",")
                        .map(function (part) { return part.trim(); })
                        .filter(Boolean).map(Number);
                    shown = Object.prototype.hasOwnProperty.call(kept, condition) &&
                        values.indexOf(kept[condition]) !== -1;
                }
                question.hidden = !shown;
                // Hidden answers are not sent (the server would drop them).
                question.querySelectorAll("input, textarea").forEach(function (input) {
                    input.disabled = !shown;
                });
                var value = questionValue(question);
                if (shown && isAnswered(value) && !Array.isArray(value)) {
                    var number = Number(value);
                    if (!isNaN(number)) kept[question.dataset.question] = number;
                }
            });
        }

        function shownQuestions() {
            return questions.filter(function (question) { return !question.hidden; });
        }

        function missingRequired() {
            return shownQuestions().filter(function (question) {
                return question.hasAttribute("data-required") && !isAnswered(questionValue(question));
            });
        }

        function updateProgress() {
            if (!progress) return;
            var shown = shownQuestions();
            var done = shown.filter(function (question) { return isAnswered(questionValue(question)); });
            progress.textContent = format(form.dataset.textProgress, {
                done: done.length, total: shown.length
            });
        }

        function updateCounters() {
            form.querySelectorAll("textarea[data-counter]").forEach(function (area) {
                var counter = form.querySelector('[data-counter-for="' + area.id + '"]');
                if (counter) {
                    counter.textContent = format(form.dataset.textCounter, {
                        count: area.value.length, limit: area.maxLength
                    });
                }
            });
        }

        function collect() {
            var answers = {};
            questions.forEach(function (question) {
                answers[question.dataset.question] = questionValue(question);
            });
            return answers;
        }

        function restore(answers) {
            questions.forEach(function (question) {
                var value = answers[question.dataset.question];
                if (value === undefined) return;
                question.querySelectorAll("input, textarea").forEach(function (input) {
                    if (input.type === "radio") {
                        input.checked = input.value === value;
                    } else if (input.type === "checkbox") {
                        input.checked = Array.isArray(value) && value.indexOf(input.value) !== -1;
                    } else {
                        input.value = value;
                    }
                });
            });
        }

        function say(text, withClear) {
            if (!status) return;
            status.textContent = text;
            if (withClear) {
                var clear = document.createElement("button");
                clear.type = "button";
                clear.className = "button button--quiet evaluation-draft__clear";
                clear.textContent = form.dataset.textClear;
                clear.addEventListener("click", function () {
                    draftDelete(key);
                    form.querySelectorAll("[data-question] input, [data-question] textarea").forEach(function (input) {
                        if (input.type === "radio" || input.type === "checkbox") input.checked = false;
                        else input.value = "";
                    });
                    refresh();
                    say(form.dataset.textCleared, false);
                });
                status.appendChild(document.createTextNode(" "));
                status.appendChild(clear);
            }
        }

        function save() {
            if (!storage || sending) return;
            var stamp = Date.now();
            try {
                storage.setItem(key, JSON.stringify({ v: 1, saved: stamp, answers: collect() }));
                // Written without announcing it: a screen reader would hear it
                // after every keystroke.
                var saved = document.querySelector("[data-draft-saved]");
                if (saved) saved.textContent = format(form.dataset.textSaved, { time: timeText(stamp) });
            } catch (error) {
                say(form.dataset.textUnavailable, false);
            }
        }

        function refresh() {
            applyConditions();
            updateProgress();
            updateCounters();
        }

        // Drafts: the answers the server sent back (after a refusal) are the
        // latest; otherwise the draft of this device, if any.
        if (!storage) {
            say(form.dataset.textUnavailable, false);
        } else if (form.dataset.bound !== "true") {
            var draft = draftRead(key);
            if (draft) {
                restore(draft.answers);
                say(format(form.dataset.textRestored, { time: timeText(draft.saved) }), true);
            }
        }
        if (status) {
            var saved = document.createElement("span");
            saved.className = "evaluation-draft__saved";
            saved.setAttribute("data-draft-saved", "");
            status.parentNode.appendChild(saved);
        }
        refresh();

        form.addEventListener("input", function () {
            refresh();
            window.clearTimeout(saveTimer);
            saveTimer = window.setTimeout(save, 400);
        });
        form.addEventListener("change", function () {
            refresh();
            save();
        });

        // Confirmation: a dialog where the browser has one; otherwise the
        // tick box stays, and the server asks for it.
        var dialog = document.querySelector("[data-confirm-dialog]");
        var confirmField = form.querySelector("[data-confirm-field]");
        var confirmBox = confirmField && confirmField.querySelector("input[type=checkbox]");
        var submitButton = form.querySelector("[data-submit]");
        var useDialog = dialog && typeof dialog.showModal === "function" && confirmBox;
        if (useDialog && !confirmField.classList.contains("field--invalid")) {
            confirmField.hidden = true;
        }

        function focusQuestion(question) {
            question.scrollIntoView({ block: "center" });
            var first = question.querySelector("input, textarea");
            if (first) first.focus({ preventScroll: true });
        }

        form.addEventListener("submit", function (event) {
            if (sending) {
                event.preventDefault();
                return;
            }
            if (!useDialog) {
                sending = true;
                if (submitButton) submitButton.disabled = true;
                return;
            }
            event.preventDefault();
            var missing = missingRequired();
            var missingBox = dialog.querySelector("[data-dialog-missing]");
            var readyBox = dialog.querySelector("[data-dialog-ready]");
            var sendButton = dialog.querySelector("[data-dialog-send]");
            var list = dialog.querySelector("[data-dialog-missing-list]");
            list.textContent = "";
            if (missing.length) {
                var count = dialog.querySelector("[data-dialog-missing-count]");
                count.textContent = format(count.dataset.text, { count: missing.length });
                missing.forEach(function (question) {
                    var item = document.createElement("li");
                    var link = document.createElement("a");
                    link.href = "#" + question.id;
                    var number = question.querySelector(".question__number");
                    link.textContent = format(list.dataset.text, {
                        number: number ? number.textContent.replace(".", "") : ""
                    });
                    link.addEventListener("click", function (clickEvent) {
                        clickEvent.preventDefault();
                        dialog.close();
                        focusQuestion(question);
                    });
                    item.appendChild(link);
                    list.appendChild(item);
                });
            }
            missingBox.hidden = missing.length === 0;
            readyBox.hidden = missing.length > 0;
            sendButton.hidden = missing.length > 0;
            dialog.showModal();
            (missing.length ? dialog.querySelector("[data-dialog-back]") : sendButton).focus();
        });

        if (useDialog) {
            dialog.querySelector("[data-dialog-back]").addEventListener("click", function () {
                dialog.close();
                var missing = missingRequired();
                if (missing.length) focusQuestion(missing[0]);
                else if (submitButton) submitButton.focus();
            });
            dialog.querySelector("[data-dialog-send]").addEventListener("click", function () {
                save();
                sending = true;
                confirmBox.checked = true;
                if (submitButton) submitButton.disabled = true;
                this.disabled = true;
                // submit() sends without firing "submit" again.
                form.submit();
            });
        }

        var errors = document.getElementById("evaluation-errors");
        if (errors) errors.focus();
    }

    // The list and the page of a sent evaluation ---------------------------------

    function enhanceList(list) {
        var prefix = list.dataset.draftPrefix;
        var listed = {};
        list.querySelectorAll("[data-draft-key]").forEach(function (row) {
            var key = row.dataset.draftKey;
            listed[key] = true;
            if (row.hasAttribute("data-answered")) {
                // Sent (here or on another device): its draft goes.
                draftDelete(key);
                return;
            }
            if (draftRead(key)) {
                var badge = row.querySelector("[data-draft-badge]");
                if (badge) badge.hidden = false;
                var link = row.querySelector("[data-draft-link]");
                if (link && link.firstChild && link.firstChild.nodeType === 3) {
                    link.firstChild.textContent = link.dataset.draftText;
                }
            }
        });
        // Drafts of this unit for rounds no longer open are of no use.
        if (storage && prefix) {
            var stale = [];
            for (var i = 0; i < storage.length; i++) {
                var name = storage.key(i);
                if (name && name.indexOf(prefix) === 0 && !listed[name]) stale.push(name);
            }
            stale.forEach(draftDelete);
        }
    }

    function init() {
        document.querySelectorAll("[data-evaluation-form]").forEach(enhanceForm);
        document.querySelectorAll("[data-evaluation-list]").forEach(enhanceList);
        document.querySelectorAll("[data-evaluation-done]").forEach(function (done) {
            draftDelete(done.dataset.draftKey);
        });
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", init);
    } else {
        init();
    }
})();
