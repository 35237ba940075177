// Behaviour the templates ask for by attribute, since the Content Security Policy allows no inline
// script: `data-autosubmit` on a field submits its form when it changes; `data-remove-on-success`
// on an htmx element removes it once its request succeeded (the "显示明文" button).
document.addEventListener("change", function (event) {
  const field = event.target;
  if (field.matches && field.matches("[data-autosubmit]") && field.form) {
    field.form.requestSubmit();
  }
});

document.addEventListener("htmx:afterRequest", function (event) {
  const element = event.detail.elt;
  if (event.detail.successful && element.matches && element.matches("[data-remove-on-success]")) {
    element.remove();
  }
});

// `data-check-all="NAME"` on a checkbox ticks or clears every checkbox named NAME of the same form.
document.addEventListener("change", function (event) {
  const box = event.target;
  if (!box.matches || !box.matches("[data-check-all]")) {
    return;
  }
  const form = box.form;
  document.querySelectorAll('input[type="checkbox"][name="' + box.dataset.checkAll + '"]').forEach(function (other) {
    if (!form || other.form === form) {
      other.checked = box.checked;
    }
  });
});

// `data-copy="SELECTOR"` on a button copies that field's value (the new token) and says so on the button.
document.addEventListener("click", function (event) {
  const button = event.target.closest && event.target.closest("[data-copy]");
  if (!button) {
    return;
  }
  const field = document.querySelector(button.dataset.copy);
  if (!field) {
    return;
  }
  field.select();
  const done = function () {
    button.textContent = button.dataset.copied || button.textContent;
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(done, function () {
      document.execCommand("copy");
      done();
    });
  } else {
    document.execCommand("copy");
    done();
  }
});
