// 打印 on the printable report: a file, as the CSP refuses inline script.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
