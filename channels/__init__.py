"""The Rasa server's input channels (registered in credentials.yml): REST, the chat page, the web
widget's Socket.IO, Twilio SMS; each keeps the stock webhook path and renders our replies its way.
inbound.py is what every channel runs before Rasa reads a message. May import assistant/, stores/."""
