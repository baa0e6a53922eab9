// The demo chat: sends each message to /api/chat and shows the replies.
(function () {
  const list = document.getElementById("messages");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const language = document.getElementById("language");
  // The chosen language is sent once, when it changes: after that the conversation follows
  // what the newcomer writes.
  let sentLanguage = "";
  let sender = localStorage.getItem("welcome-desk-sender");
  if (!sender) {
    sender = "web-" + crypto.randomUUID();
    localStorage.setItem("welcome-desk-sender", sender);
  }

  function show(text, kind) {
    const item = document.createElement("li");
    item.className = kind;
    item.dir = "auto"; // Arabic and Persian replies run right to left
    item.textContent = text;
    list.appendChild(item);
    item.scrollIntoView({ block: "end" });
  }

  async function send(text, location) {
    const chosen = language.value !== sentLanguage ? language.value : undefined;
    try {
      const response = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender, message: text, language: chosen || undefined, location }),
      });
      sentLanguage = language.value;
      const body = await response.json();
      if (!response.ok) return show(body.error || "Something went wrong.", "error");
      body.replies.forEach((reply) => show(reply, "bot"));
    } catch (error) {
      show("The assistant is not reachable. Please try again.", "error");
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    show(text, "user");
    send(text);
  });

  // The nearest office: the browser's position, only when the newcomer asks for it.
  const share = document.getElementById("share-location");
  if (!navigator.geolocation) share.hidden = true;
  share.addEventListener("click", () => {
    navigator.geolocation.getCurrentPosition(
      (position) => {
        show("📍", "user");
        const { latitude, longitude } = position.coords;
        send("", { latitude, longitude });
      },
      () => show("Your position is not available. You can write your district or postcode.", "error"),
      { enableHighAccuracy: false, timeout: 10000, maximumAge: 600000 },
    );
  });
})();
