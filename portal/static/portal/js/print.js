// Buttons marked data-print print the page (the print styles keep only the content).
document.querySelectorAll("[data-print]").forEach((button) => {
    button.addEventListener("click", () => window.print());
});
