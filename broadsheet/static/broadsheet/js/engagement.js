/* Votes and comments without reloading the page. Everything works without this script:
   the forms post to the same endpoints and get a page back. The article HTML is cached
   and shared, so what belongs to one reader (their vote, a fresh tally, a math
   challenge) is fetched from the state endpoint after the page loads. */
(function () {
  "use strict";

  var RETRIES = 5;

  /* Posts the form. While the newsroom is briefly unavailable (503, from the app or from
     the cache in front), it waits as Retry-After says and sends the same form again,
     telling the reader through `onWait`: what they typed stays in the form throughout. */
  function postForm(form, onWait, attempt) {
    attempt = attempt || 0;
    return fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    }).then(function (response) {
      if (response.status === 503 && attempt < RETRIES) {
        var wait = parseInt(response.headers.get("Retry-After"), 10) || 5;
        if (onWait) onWait(wait);
        return new Promise(function (resolve) { setTimeout(resolve, wait * 1000); })
          .then(function () { return postForm(form, onWait, attempt + 1); });
      }
      return response.json().then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  function waitingNote(element) {
    return function (seconds) {
      if (element) {
        element.textContent = "The newsroom is briefly unavailable. Sending again in " +
          seconds + " seconds; nothing you typed is lost.";
      }
    };
  }

  function showTally(root, votes) {
    var text = root.querySelector("[data-votes-text]");
    if (text) text.textContent = votes.text;
    var average = root.querySelector("[data-votes-average]");
    if (votes.count) {
      if (!average) {
        average = document.createElement("span");
        average.className = "votes__average";
        average.setAttribute("data-votes-average", "");
        text.parentNode.insertBefore(average, text);
        text.parentNode.insertBefore(document.createTextNode(" "), text);
      }
      average.textContent = votes.average.toFixed(1) + " out of 5.";
    }
  }

  function showYourVote(root, stars) {
    var yours = root.querySelector("[data-votes-yours]");
    if (!stars) return;
    var radio = root.querySelector('input[name="stars"][value="' + stars + '"]');
    if (radio) radio.checked = true;
    if (yours) yours.textContent = "Your vote: " + stars + " star" + (stars > 1 ? "s" : "") + ". You can change it.";
  }

  function setChallenge(form, challenge) {
    if (!form || !challenge) return;
    form.querySelector("[data-challenge-token]").value = challenge.token;
    form.querySelectorAll("[data-challenge-question]").forEach(function (el) {
      el.textContent = challenge.question;
    });
    var slot = form.querySelector("[data-challenge-slot]");
    if (slot) slot.hidden = false;
    var answer = form.querySelector("[data-challenge-answer]");
    if (answer) { answer.disabled = false; answer.required = true; answer.value = ""; }
    var later = form.querySelector("[data-challenge-later]");
    if (later) later.hidden = true;
  }

  function showErrors(form, errors) {
    form.querySelectorAll(".field__error[data-js]").forEach(function (el) { el.remove(); });
    Object.keys(errors || {}).forEach(function (name) {
      var field = form.querySelector('[name="' + (name === "__all__" ? "body" : name) + '"]');
      if (!field) return;
      var p = document.createElement("p");
      p.className = "field__error";
      p.setAttribute("data-js", "");
      p.textContent = errors[name].join(" ");
      field.parentNode.insertBefore(p, field);
    });
  }

  function init(votesRoot) {
    var commentForm = document.querySelector("[data-comment-form]");
    fetch(votesRoot.getAttribute("data-state-url"), {
      headers: { Accept: "application/json" }, credentials: "same-origin",
    })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (state) {
        if (!state) return;
        // A vote sent before this answer arrived already shows a newer tally.
        if (!votesRoot.hasAttribute("data-voted")) {
          showTally(votesRoot, state.votes);
          showYourVote(votesRoot, state.your_vote);
        }
        setChallenge(commentForm, state.challenge);
      })
      .catch(function () { /* the forms still work without the state */ });

    var voteForm = votesRoot.querySelector("[data-vote-form]");
    if (voteForm) {
      voteForm.addEventListener("submit", function (event) {
        event.preventDefault();
        var yours = votesRoot.querySelector("[data-votes-yours]");
        postForm(voteForm, waitingNote(yours)).then(function (result) {
          if (result.ok) {
            votesRoot.setAttribute("data-voted", "");
            showTally(votesRoot, result.data.votes);
            showYourVote(votesRoot, result.data.your_vote);
          } else if (yours) {
            yours.textContent = result.data.error;
          }
        }).catch(function () { voteForm.submit(); });
      });
    }

    function endReply() {
      commentForm.querySelector("[data-comment-parent]").value = "";
      commentForm.querySelector("[data-reply-note]").hidden = true;
      document.getElementById("comments").appendChild(commentForm);
    }

    if (commentForm) {
      var status = commentForm.querySelector("[data-comment-status]");
      commentForm.addEventListener("submit", function (event) {
        var answer = commentForm.querySelector("[data-challenge-answer]");
        if (!answer || answer.disabled) return; // no challenge yet: let the page ask for it
        event.preventDefault();
        postForm(commentForm, waitingNote(status)).then(function (result) {
          if (result.ok) {
            status.textContent = result.data.message;
            commentForm.querySelector('[name="body"]').value = "";
            showErrors(commentForm, {});
            var parentId = commentForm.querySelector("[data-comment-parent]").value;
            if (result.data.html) {
              var list = document.querySelector("[data-comments-list]");
              var parentComment = parentId && document.getElementById("comment-" + parentId);
              if (parentComment) {
                var thread = parentComment.closest("li");
                list = thread.querySelector(".comments__replies");
                if (!list) {
                  list = document.createElement("ol");
                  list.className = "comments__replies";
                  thread.insertBefore(list, parentComment.nextSibling);
                }
              }
              var item = document.createElement("li");
              item.innerHTML = result.data.html; // rendered and escaped by the server
              list.hidden = false;
              list.appendChild(item);
              var empty = document.querySelector("[data-comments-empty]");
              if (empty) empty.hidden = true;
              var heading = document.getElementById("comments-title");
              var shown = document.querySelectorAll("#comments .comment").length;
              if (heading) heading.textContent = "Comments (" + shown + ")";
            }
            if (parentId) endReply();
          } else {
            status.textContent = result.data.error;
            showErrors(commentForm, result.data.errors);
          }
          fetch(votesRoot.getAttribute("data-state-url"), {
            headers: { Accept: "application/json" }, credentials: "same-origin",
          }).then(function (r) { return r.json(); })
            .then(function (state) { setChallenge(commentForm, state.challenge); });
        }).catch(function () { commentForm.submit(); });
      });

      document.querySelectorAll("[data-reply-to]").forEach(function (link) {
        link.addEventListener("click", function (event) {
          event.preventDefault();
          commentForm.querySelector("[data-comment-parent]").value = link.getAttribute("data-reply-to");
          var note = commentForm.querySelector("[data-reply-note]");
          note.hidden = false;
          note.firstChild.textContent = "Replying to " + link.getAttribute("data-reply-name") + ". ";
          link.closest("li").appendChild(commentForm);
          commentForm.querySelector('[name="body"]').focus();
        });
      });
      var cancel = commentForm.querySelector("[data-cancel-reply]");
      if (cancel) cancel.addEventListener("click", endReply);
    }

    document.querySelectorAll("[data-flag-form]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        postForm(form).then(function (result) {
          var note = document.createElement("span");
          note.className = "comment__flagged";
          note.setAttribute("role", "status");
          note.textContent = result.ok ? "Reported. Thank you." : result.data.error;
          form.replaceWith(note);
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var votesRoot = document.querySelector("[data-votes]");
    if (votesRoot) init(votesRoot);
  });
})();
