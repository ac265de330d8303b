// The video room (templates/scheduling/room.html). Fetches this appointment's Twilio Video token from
// the page's own route (same origin, CSRF header), asks for the camera and microphone, joins the room
// with twilio-video (served by the app: assets.vendor), shows both videos, and offers mute, camera and
// leave. Whatever fails is said in words, with a way to try again, never a spinner that spins
// forever. Before the room opens, the page reloads itself at the opening time.
(function () {
  "use strict";

  var CONNECT_TIMEOUT_MS = 20000;
  var DEVICES_TIMEOUT_MS = 15000;
  var KEEPALIVE_MS = 5 * 60 * 1000;

  var waiting = document.getElementById("room-wait");
  if (waiting) {
    var delay = Date.parse(waiting.getAttribute("data-reload-at")) - Date.now() + 1500;
    if (delay > 0 && delay < 12 * 3600 * 1000) setTimeout(function () { window.location.reload(); }, delay);
    return;
  }

  var root = document.getElementById("video-room");
  if (!root) return;
  function $(id) { return document.getElementById(id); }
  var statusLine = $("room-status"), problem = $("room-problem"), deviceProblem = $("device-problem");
  var retry = $("room-retry"), retryButton = $("retry-room");
  var videos = $("room-videos"), controls = $("room-controls");
  var remoteBox = $("remote-video"), localBox = $("local-video");
  var remotePlaceholder = $("remote-placeholder"), localPlaceholder = $("local-placeholder");
  var micButton = $("toggle-mic"), cameraButton = $("toggle-camera"), leaveButton = $("leave-room");
  var providerName = root.getAttribute("data-provider-name") || "Your provider";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  var COULD_NOT_CONNECT = "We could not connect to the video service. Check your internet connection, then " +
    "choose Try again. If it still does not work, reload the page or try another browser; your appointment " +
    "stays booked.";

  var room = null;
  var localTracks = [];
  var keepalive = null;

  function say(text) { statusLine.textContent = text; statusLine.hidden = false; }
  function inCall(on) { videos.hidden = controls.hidden = !on; }
  function offerRetry(label) { retryButton.textContent = label; retry.hidden = false; }
  function fail(text) {
    problem.textContent = text;
    problem.hidden = false;
    statusLine.hidden = true;
    inCall(false);
    offerRetry("Try again");
  }

  function withTimeout(promise, ms, onTimeout) {
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () {
        if (onTimeout) onTimeout();
        reject(new Error("timeout"));
      }, ms);
      promise.then(function (value) { clearTimeout(timer); resolve(value); },
                   function (error) { clearTimeout(timer); reject(error); });
    });
  }

  function fetchToken() {
    return fetch(root.getAttribute("data-token-url"), {
      method: "POST", credentials: "same-origin", headers: {"X-CSRFToken": csrf, "Accept": "application/json"}
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok || !body.token) {
          var error = new Error((body.error && body.error.message) ||
                                "The room could not be opened just now. Reload the page to try again.");
          error.words = true;
          throw error;
        }
        return body;
      });
    });
  }

  function attach(track, box, placeholder) {
    if (track.kind !== "audio" && track.kind !== "video") return;
    var element = track.attach();
    if (track.kind === "video") {
      element.setAttribute("playsinline", "");
      if (placeholder) placeholder.hidden = true;
    }
    box.appendChild(element);
  }

  function detach(track, placeholder) {
    if (!track.detach) return;
    track.detach().forEach(function (element) { element.remove(); });
    if (track.kind === "video" && placeholder) placeholder.hidden = false;
  }

  function releaseDevices() {
    localTracks.forEach(function (track) { track.stop(); detach(track, localPlaceholder); });
    localTracks = [];
  }

  function localTrack(kind) {
    return localTracks.filter(function (track) { return track.kind === kind; })[0];
  }

  function cameraAndMicrophone() {
    deviceProblem.hidden = true;
    return withTimeout(Twilio.Video.createLocalTracks({audio: true, video: {width: 640}}), DEVICES_TIMEOUT_MS)
      .then(function (tracks) {
        localTracks = tracks;
        // the local preview plays video only: our own sound would echo back
        tracks.forEach(function (track) { if (track.kind === "video") attach(track, localBox, localPlaceholder); });
        return tracks;
      })
      .catch(function () {
        deviceProblem.textContent = "We could not use your camera or microphone. Allow this site to use them in " +
          "your browser's settings, then reload the page. You can still join to see and hear " + providerName + ".";
        deviceProblem.hidden = false;
        return [];
      });
  }

  function watchParticipant(participant) {
    participant.tracks.forEach(function (publication) {
      if (publication.track) attach(publication.track, remoteBox, remotePlaceholder);
    });
    participant.on("trackSubscribed", function (track) { attach(track, remoteBox, remotePlaceholder); });
    participant.on("trackUnsubscribed", function (track) { detach(track, remotePlaceholder); });
    say(providerName + " is here.");
  }

  function keepSignedIn() {
    // A call has no clicks: press the layout's own "Stay signed in" (portal.js) every few minutes,
    // which tells the server and restarts the idle-logoff countdown, so a long session is never cut.
    var stay = document.querySelector("[data-idle-stay]");
    if (stay) keepalive = setInterval(function () { stay.click(); }, KEEPALIVE_MS);
  }

  function joined(connected) {
    room = connected;
    inCall(true);
    micButton.disabled = !localTrack("audio");
    cameraButton.disabled = !localTrack("video");
    say(room.participants.size ? providerName + " is here." : "You are in the room. " + providerName +
        " will join you here.");
    room.participants.forEach(watchParticipant);
    room.on("participantConnected", watchParticipant);
    room.on("participantDisconnected", function () {
      remoteBox.querySelectorAll("video, audio").forEach(function (element) { element.remove(); });
      remotePlaceholder.hidden = false;
      say(providerName + " left the room. They may be back in a moment.");
    });
    room.on("disconnected", function (_room, error) {
      clearInterval(keepalive);
      releaseDevices();
      room = null;
      if (error) {
        fail("The connection to the video service was lost. Choose Try again to join again.");
      } else {
        inCall(false);
        say("You left the room. You can join again while it is open.");
        offerRetry("Join again");
      }
    });
    keepSignedIn();
  }

  function join() {
    problem.hidden = true;
    retry.hidden = true;
    say("Connecting to the video service…");
    if (!window.Twilio || !window.Twilio.Video) {
      fail(COULD_NOT_CONNECT);
      return;
    }
    var pending = null;
    fetchToken().then(function (grant) {
      return cameraAndMicrophone().then(function (tracks) {
        pending = Twilio.Video.connect(grant.token, {name: grant.room, tracks: tracks});
        return withTimeout(pending, CONNECT_TIMEOUT_MS, function () { if (pending.cancel) pending.cancel(); });
      });
    }).then(joined, function (error) {
      releaseDevices();
      fail(error && error.words ? error.message : COULD_NOT_CONNECT);
    });
  }

  micButton.addEventListener("click", function () {
    var track = localTrack("audio");
    if (!track) return;
    var muting = track.isEnabled;
    if (muting) { track.disable(); } else { track.enable(); }
    micButton.textContent = muting ? "Unmute microphone" : "Mute microphone";
    say(muting ? "Your microphone is muted." : "Your microphone is on.");
  });
  cameraButton.addEventListener("click", function () {
    var track = localTrack("video");
    if (!track) return;
    var hiding = track.isEnabled;
    if (hiding) { track.disable(); } else { track.enable(); }
    localPlaceholder.hidden = !hiding;
    cameraButton.textContent = hiding ? "Turn camera on" : "Turn camera off";
    say(hiding ? "Your camera is off." : "Your camera is on.");
  });
  leaveButton.addEventListener("click", function () { if (room) room.disconnect(); });
  retryButton.addEventListener("click", join);

  join();
})();
