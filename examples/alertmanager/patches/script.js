// A patch served by nginx in place of Alertmanager's own /script.js.
// It wraps the real UI bundle, which the ConfigMap cannot hold, and adds a banner that says which
// cluster this Alertmanager belongs to.
(function () {
  var banner = document.createElement('div');
  banner.textContent = 'production cluster: silences here page the on-call engineer';
  banner.style.cssText = 'background:#b00020;color:#fff;padding:4px 12px;font:14px sans-serif';
  document.addEventListener('DOMContentLoaded', function () {
    document.body.insertBefore(banner, document.body.firstChild);
  });
  var ui = document.createElement('script');
  ui.src = 'lib/ui-bundle.js';
  document.head.appendChild(ui);
})();
