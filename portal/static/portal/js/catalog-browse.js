/* Catalog browsing without page reloads.
 *
 * The page works as a plain GET form; this script only makes it quicker. A
 * change in the form (or a pagination link) fetches the same URL with
 * X-Requested-With, which the server answers with the browsing region alone;
 * the region is swapped, the address bar follows (history.replaceState) and
 * focus returns to the control the user was on. On any failure the browser
 * simply navigates to the URL.
 */
(function () {
    "use strict";

    var region = document.querySelector("[data-catalog-browse]");
    if (!region || !window.fetch || !window.URLSearchParams) {
        return;
    }
    var status = document.querySelector("[data-browse-status]");
    var narrow = window.matchMedia("(max-width: 48rem)");
    var pending = null;

    function facets() {
        return region.querySelector("[data-facets]");
    }

    function formUrl(form) {
        var params = new URLSearchParams();
        new FormData(form).forEach(function (value, name) {
            if (value !== "") {
                params.append(name, value);
            }
        });
        var query = params.toString();
        return form.action.split("?")[0] + (query ? "?" + query : "");
    }

    function load(url, focusId) {
        if (pending) {
            pending.abort();
        }
        pending = new AbortController();
        var wasOpen = facets() ? facets().open : true;
        region.setAttribute("aria-busy", "true");
        fetch(url, {
            headers: { "X-Requested-With": "XMLHttpRequest" },
            credentials: "same-origin",
            signal: pending.signal
        })
            .then(function (response) {
                if (!response.ok || response.redirected) {
                    throw new Error("status " + response.status);
                }
                return response.text();
            })
            .then(function (html) {
                region.innerHTML = html;
                region.removeAttribute("aria-busy");
                history.replaceState(null, "", url);
                if (facets()) {
                    facets().open = wasOpen || !narrow.matches;
                }
                var count = region.querySelector(".results__count");
                if (status && count) {
                    status.textContent = count.textContent;
                }
                var target = focusId && document.getElementById(focusId);
                if (target) {
                    target.focus();
                } else if (count) {
                    count.focus();
                }
            })
            .catch(function (error) {
                if (error.name !== "AbortError") {
                    window.location.assign(url);
                }
            });
    }

    region.addEventListener("change", function (event) {
        var form = event.target.form;
        // The text box waits for Enter or the search button.
        if (form && form.hasAttribute("data-browse-form") && event.target.name !== "q") {
            load(formUrl(form), event.target.id);
        }
    });

    region.addEventListener("submit", function (event) {
        var form = event.target;
        if (form.hasAttribute("data-browse-form")) {
            event.preventDefault();
            var active = document.activeElement;
            load(formUrl(form), active && active.id ? active.id : null);
        }
    });

    region.addEventListener("click", function (event) {
        var link = event.target.closest("a[data-browse-link]");
        if (link && !event.ctrlKey && !event.metaKey && !event.shiftKey) {
            event.preventDefault();
            load(link.href, null);
            region.scrollIntoView({ block: "start" });
        }
    });

    // Suggestions for the search box: titles completing what is typed, as the
    // options of its datalist, fetched after a short pause in typing.
    var suggestTimer = null;
    var suggestPending = null;
    region.addEventListener("input", function (event) {
        var box = event.target;
        if (!box.hasAttribute("data-suggest-url")) {
            return;
        }
        window.clearTimeout(suggestTimer);
        suggestTimer = window.setTimeout(function () {
            var list = document.getElementById(box.getAttribute("list"));
            var text = box.value.trim();
            if (!list || !text) {
                return;
            }
            if (suggestPending) {
                suggestPending.abort();
            }
            suggestPending = new AbortController();
            var url = box.getAttribute("data-suggest-url") + "?q=" + encodeURIComponent(text);
            fetch(url, { credentials: "same-origin", signal: suggestPending.signal })
                .then(function (response) {
                    return response.ok ? response.json() : { suggestions: [] };
                })
                .then(function (data) {
                    list.replaceChildren.apply(list, data.suggestions.map(function (title) {
                        var option = document.createElement("option");
                        option.value = title;
                        return option;
                    }));
                })
                .catch(function () {});
        }, 200);
    });

    // Narrow screens start with the filters folded above the results; wide
    // screens always show them beside the results.
    region.classList.add("browse--enhanced");
    if (facets() && narrow.matches) {
        facets().open = false;
    }
    narrow.addEventListener("change", function () {
        if (facets() && !narrow.matches) {
            facets().open = true;
        }
    });
}());
