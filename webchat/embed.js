// The clinic's chat widget (rasa-webchat) connected to the Rasa server this script is served by.
// On /chat it fills the page's element named by data-selector; on a clinic's own site it adds a
// chat launcher in the corner:
//   <script src="https://YOUR-ASSISTANT-HOST/chat/embed.js" async></script>
(function () {
  var script = document.currentScript;
  var origin = new URL(script.src).origin;
  var selector = script.getAttribute("data-selector");
  // The widget prints its connection messages to the console, with the conversation's token:
  // anyone at a shared computer could open the conversation with it. Those lines are dropped;
  // every other console message passes.
  var log = console.log;
  console.log = function () {
    var first = String(arguments[0]);
    if (/^(session_confirm:|connect:|sending init payload)/.test(first)) return;
    return log.apply(console, arguments);
  };
  var widget = document.createElement("script");
  widget.src = origin + "/chat/webchat.js";
  widget.onload = function () {
    window.WebChat.default({
      embedded: Boolean(selector),
      initPayload: "/greet",           // the greeting with the topic buttons
      socketUrl: origin,
      socketPath: "/socket.io/",
      title: "Spine surgery questions",
      subtitle: "General information, not medical advice",
      inputTextFieldHint: "Type your question...",
      params: { storage: "session" },  // this browser tab only: not kept on a shared computer
      customMessageDelay: function () { return 300; },
      showMessageDate: false
    }, selector ? document.querySelector(selector) : null);  // null: the widget adds its own element
  };
  document.head.appendChild(widget);
})();
