// Draws the latency points and the timeline from the JSON island #data. No network, no
// libraries. Sets the body's data-rendered attribute to "ok" when done (tests read it), or to
// "error: …".
"use strict";
(function () {
  var status = document.getElementById("script-status");
  function fail(e) {
    document.body.setAttribute("data-rendered", "error: " + e);
    status.textContent = "The charts could not be drawn: " + e;
  }
  window.addEventListener("error", function (ev) { fail(ev.message); });
  try {
    var d = JSON.parse(document.getElementById("data").textContent);
    var n = d.start.length;
    var colours = ["#2b7bb9", "#9a9a9a", "#e08a00"];
    var span = Math.max(d.span, 1);
    var decimals = span < 100 ? 3 : span < 10000 ? 2 : 1;

    function shadeFaults(ctx, x, top, bottom, from, to) {
      ctx.font = "11px system-ui, sans-serif";
      for (var i = 0; i < d.faults.length; i++) {
        var w = d.faults[i];
        if (w.end < from || w.start > to) continue;
        var x0 = x(w.start), x1 = x(w.end);
        ctx.fillStyle = "rgba(198, 40, 40, 0.10)";
        ctx.fillRect(x0, top, Math.max(x1 - x0, 1), bottom - top);
        ctx.fillStyle = "#c62828";
        ctx.fillText(w.name, Math.max(x0, 0) + 3, top + 11 + 12 * (i % 2));
      }
    }

    // Latency: one point per completed op, log scale.
    (function () {
      var c = document.getElementById("latency"), ctx = c.getContext("2d");
      var W = c.width, H = c.height, L = 50, B = 20;
      var lo = Infinity, hi = 0, i;
      for (i = 0; i < n; i++) {
        if (d.end[i] === null) continue;
        var lat = Math.max(d.end[i] - d.start[i], 0.001);
        if (lat < lo) lo = lat;
        if (lat > hi) hi = lat;
      }
      if (hi === 0) { lo = 0.1; hi = 1; }
      var l0 = Math.floor(Math.log10(lo)), l1 = Math.ceil(Math.log10(hi));
      if (l1 === l0) l1 = l0 + 1;
      var x = function (t) { return L + t / span * (W - L - 8); };
      var y = function (ms) { return (H - B) - (Math.log10(ms) - l0) / (l1 - l0) * (H - B - 8); };
      shadeFaults(ctx, x, 0, H - B, 0, span);
      ctx.fillStyle = "#666"; ctx.strokeStyle = "#e5e5e5";
      for (var p = l0; p <= l1; p++) {
        var yy = y(Math.pow(10, p));
        ctx.beginPath(); ctx.moveTo(L, yy); ctx.lineTo(W, yy); ctx.stroke();
        ctx.fillText(Math.pow(10, p) >= 1 ? Math.pow(10, p) + " ms" : Math.pow(10, p).toPrecision(1) + " ms", 2, yy + 4);
      }
      for (var s = 0; s <= 8; s++) {
        var t = span * s / 8;
        ctx.fillText((t / 1000).toFixed(decimals) + " s", x(t) - 12, H - 5);
      }
      for (var k = 0; k < 3; k++) {
        ctx.fillStyle = colours[k];
        for (i = 0; i < n; i++) {
          if (d.type[i] !== k || d.end[i] === null) continue;
          ctx.fillRect(x(d.start[i]) - 1, y(Math.max(d.end[i] - d.start[i], 0.001)) - 1, 2, 2);
        }
      }
    })();

    // Timeline: lanes × time, zoom with the wheel, scroll by dragging, hover for the op.
    (function () {
      var c = document.getElementById("timeline"), ctx = c.getContext("2d"), tip = document.getElementById("tip");
      var lanes = Math.max(d.lanes, 1), TOP = 16, rowH = Math.max(3, Math.min(22, (c.height - TOP - 4) / lanes));
      c.height = Math.ceil(TOP + rowH * lanes + 4);
      var W = c.width, H = c.height;
      var v0 = 0, v1 = span;
      var byLane = [];
      for (var l = 0; l < lanes; l++) byLane.push([]);
      for (var i = 0; i < n; i++) byLane[d.lane[i]].push(i);
      function endOf(i) { return d.end[i] === null ? span : d.end[i]; }
      function x(t) { return (t - v0) / (v1 - v0) * W; }
      function draw() {
        ctx.clearRect(0, 0, W, H);
        shadeFaults(ctx, x, 0, H, v0, v1);
        ctx.fillStyle = "#666"; ctx.font = "11px system-ui, sans-serif";
        for (var s = 0; s <= 6; s++) {
          var t = v0 + (v1 - v0) * s / 6;
          ctx.fillText((t / 1000).toFixed(3) + " s", Math.min(x(t) + 2, W - 60), 11);
        }
        for (var k = 0; k < 3; k++) {
          ctx.fillStyle = colours[k];
          for (var i = 0; i < n; i++) {
            if (d.type[i] !== k) continue;
            var s0 = d.start[i], e0 = endOf(i);
            if (e0 < v0 || s0 > v1) continue;
            var x0 = x(s0), x1 = x(e0);
            ctx.fillRect(x0, TOP + d.lane[i] * rowH + 1, Math.max(x1 - x0, 1), Math.max(rowH - 2, 1));
          }
        }
      }
      function opAt(px, py) {
        var lane = Math.floor((py - TOP) / rowH);
        if (lane < 0 || lane >= lanes) return -1;
        var t = v0 + px / W * (v1 - v0), slack = 2 / W * (v1 - v0), ids = byLane[lane];
        for (var j = 0; j < ids.length; j++) {
          var i = ids[j];
          if (d.start[i] - slack <= t && endOf(i) + slack >= t) return i;
        }
        return -1;
      }
      function describe(i) {
        var outcome = ["ok", "fail", "info"][d.type[i]];
        var key = d.key[i] === null ? "" : "key " + d.key[i] + ": ";
        var result = d.result[i] !== null && d.result[i] !== d.value[i] ? " → " + d.result[i] : "";
        var value = d.value[i] === "nil" && result ? "" : " " + d.value[i];
        var lat = d.end[i] === null ? "never completed" : (d.end[i] - d.start[i]).toFixed(1) + " ms";
        return "process " + d.process[i] + "  " + key + d.fs[d.f[i]] + value + result + "  (" + outcome + ")\n" +
          "at " + (d.start[i] / 1000).toFixed(3) + " s, " + lat + ", history index " + d.index[i];
      }
      function scale(e) { var r = c.getBoundingClientRect(); return [(e.clientX - r.left) * W / r.width, (e.clientY - r.top) * H / r.height]; }
      c.addEventListener("wheel", function (e) {
        e.preventDefault();
        var p = scale(e), t = v0 + p[0] / W * (v1 - v0), f = e.deltaY > 0 ? 1.25 : 0.8;
        var w = Math.min(Math.max((v1 - v0) * f, 0.01), span);
        v0 = Math.max(0, Math.min(t - (t - v0) * w / (v1 - v0), span - w)); v1 = v0 + w;
        draw();
      }, { passive: false });
      var dragging = null;
      c.addEventListener("mousedown", function (e) { dragging = [scale(e)[0], v0]; });
      window.addEventListener("mouseup", function () { dragging = null; });
      c.addEventListener("mousemove", function (e) {
        var p = scale(e);
        if (dragging) {
          var w = v1 - v0, dt = (dragging[0] - p[0]) / W * w;
          v0 = Math.max(0, Math.min(dragging[1] + dt, span - w)); v1 = v0 + w;
          draw();
        }
        var i = opAt(p[0], p[1]);
        if (i < 0) { tip.hidden = true; return; }
        tip.textContent = describe(i);
        tip.hidden = false;
        tip.style.left = Math.min(e.offsetX + 12, c.clientWidth - 300) + "px";
        tip.style.top = (e.offsetY + 14) + "px";
      });
      c.addEventListener("mouseleave", function () { tip.hidden = true; });
      draw();
      window.faultlineDescribe = describe;
    })();

    document.body.setAttribute("data-rendered", "ok");
    status.textContent = "Drawn " + n + " ops.";
  } catch (e) {
    fail(e && e.message ? e.message : String(e));
  }
})();
