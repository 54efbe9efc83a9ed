// syncd dashboard: times in the browser's zone (UTC stays in the title, shown on hover) and sortable tables.
// Loaded as a file (the Content-Security-Policy allows no inline script); the pages work without it.
"use strict";

function localTimes() {
  const fmt = new Intl.DateTimeFormat(undefined, {dateStyle: "medium", timeStyle: "short"});
  for (const el of document.querySelectorAll("time[datetime]")) {
    const t = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(t.getTime())) el.textContent = fmt.format(t);
  }
}

function cellValue(row, index) {
  const cell = row.cells[index];
  if (!cell) return "";
  return cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent.trim();
}

function compare(a, b) {
  const x = Number(a), y = Number(b);
  if (a !== "" && b !== "" && !Number.isNaN(x) && !Number.isNaN(y)) return x - y;
  return a.localeCompare(b);
}

function sortBy(table, th, index) {
  const ascending = th.getAttribute("aria-sort") !== "ascending";
  for (const other of table.tHead.rows[0].cells) other.removeAttribute("aria-sort");
  th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  rows.sort((r1, r2) => compare(cellValue(r1, index), cellValue(r2, index)) * (ascending ? 1 : -1));
  for (const row of rows) body.appendChild(row);
}

function sortableTables() {
  for (const table of document.querySelectorAll("table.sortable")) {
    if (!table.tHead || !table.tBodies.length || table.tBodies[0].rows.length < 2) continue;
    Array.from(table.tHead.rows[0].cells).forEach((th, index) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = th.textContent;
      button.title = "Sort by " + th.textContent;
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", () => sortBy(table, th, index));
    });
  }
}

document.addEventListener("DOMContentLoaded", () => { localTimes(); sortableTables(); });
