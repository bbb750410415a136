// 请求精读: htmx swaps only 2xx answers by default, but the 429 answers of the request
// form, the hint and the vote button carry the readable rate-limit message, so they
// are swapped in like any other answer. https://htmx.org/docs/#modifying_swapping_behavior_with_events
document.addEventListener("htmx:beforeSwap", function (event) {
  if (event.detail.xhr.status === 429) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
