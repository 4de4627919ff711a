// The clinic's chat widget (rasa-webchat) connected to the Rasa server this script is served by.
// On /chat it fills the page (data-selector); on a clinic's own site it adds a chat launcher:
//   <script src="https://YOUR-ASSISTANT-HOST/chat/embed.js" async></script>
(function () {
  var script = document.currentScript;
  var origin = new URL(script.src).origin;
  var selector = script.getAttribute("data-selector");
  if (!selector) {
    var holder = document.createElement("div");
    holder.id = "spine-faq-chat";
    document.body.appendChild(holder);
    selector = "#spine-faq-chat";
  }
  var widget = document.createElement("script");
  widget.src = origin + "/chat/webchat.js";
  widget.onload = function () {
    window.WebChat.default({
      selector: selector,
      embedded: script.hasAttribute("data-selector"),
      initPayload: "/greet",           // the greeting with the topic buttons
      socketUrl: origin,
      socketPath: "/socket.io/",
      title: "Spine surgery questions",
      subtitle: "General information, not medical advice",
      inputTextFieldHint: "Type your question...",
      params: { storage: "local" },    // keeps the conversation across page reloads
      customMessageDelay: function () { return 300; },
      showMessageDate: false
    }, null);
  };
  document.head.appendChild(widget);
})();
