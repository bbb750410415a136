// Click-to-load players (issue 12). Until the reader clicks play, a player area shows
// the self-hosted cover: no request goes to bilibili or YouTube. The click creates
// the iframe; a chapter link (data-seek) restarts it at that moment. The chosen
// platform is remembered in localStorage.
(() => {
  "use strict";
  const KEY = "player-platform";

  const remembered = () => {
    try {
      return window.localStorage.getItem(KEY);
    } catch {
      return null;
    }
  };

  const remember = (platform) => {
    try {
      window.localStorage.setItem(KEY, platform);
    } catch {
      // Storage refused (private mode): the choice lasts for this page only.
    }
  };

  const embedUrl = (platform, id, start) => {
    const at = Math.max(0, Math.floor(start) || 0);
    if (platform === "youtube") {
      return `https://www.youtube-nocookie.com/embed/${encodeURIComponent(id)}?start=${at}&autoplay=1`;
    }
    return `https://player.bilibili.com/player.html?bvid=${encodeURIComponent(id)}&p=1&t=${at}&autoplay=1`;
  };

  const setUp = (area) => {
    const ids = { bilibili: area.dataset.bvid, youtube: area.dataset.youtubeId };
    const frame = area.querySelector(".player-frame");
    const tabs = Array.from(area.querySelectorAll("[data-platform]"));
    let platform = ids[remembered()] ? remembered() : ids.bilibili ? "bilibili" : "youtube";
    let start = Number(area.dataset.start) || 0;
    let loaded = false;

    const showTabs = () => {
      for (const tab of tabs) {
        tab.setAttribute("aria-pressed", String(tab.dataset.platform === platform));
      }
    };

    const load = (at) => {
      const iframe = document.createElement("iframe");
      iframe.src = embedUrl(platform, ids[platform], at);
      const name = platform === "youtube" ? "YouTube" : "bilibili";
      iframe.title = `${name}: ${area.dataset.title}`;
      iframe.allow = "autoplay; encrypted-media; fullscreen; picture-in-picture";
      iframe.allowFullscreen = true;
      iframe.referrerPolicy = "strict-origin-when-cross-origin";
      iframe.setAttribute(
        "sandbox",
        "allow-scripts allow-same-origin allow-popups allow-presentation",
      );
      iframe.className = "player-iframe";
      frame.replaceChildren(iframe);
      loaded = true;
    };

    const play = area.querySelector("[data-play]");
    if (play) {
      play.addEventListener("click", () => load(start));
    }
    for (const tab of tabs) {
      tab.addEventListener("click", () => {
        platform = tab.dataset.platform;
        remember(platform);
        showTabs();
        if (loaded) {
          load(start);
        }
      });
    }
    showTabs();
    area.seek = (at) => {
      start = at;
      load(at);
    };
  };

  for (const area of document.querySelectorAll("[data-player]")) {
    setUp(area);
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-seek]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button) {
      return;
    }
    const area = document.getElementById(link.dataset.player);
    if (!area || !area.seek) {
      return;
    }
    event.preventDefault();
    area.seek(Number(link.dataset.seek));
    window.history.replaceState(null, "", link.href);
    area.scrollIntoView({ block: "nearest" });
  });
})();
