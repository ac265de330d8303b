"""A labelled corpus of inbound texts for crisis detection: (text, intent) pairs, the intent a
category of `crisis_language.INTENTS` or None for an ordinary reply.

Written as patients text: lower case, no punctuation, misspellings and slang, answers to check-ins
mixed in. Recall on the crisis label must stay 100% (tests/screening/test_crisis_language.py); precision is
reported, not asserted (`bench/run.py --only crisis`). When a real-world phrasing is missed, add it
here under its intent and widen the intent's patterns, not a phrase list.
"""
from __future__ import annotations

CRISIS: dict[str, tuple[str, ...]] = {
    "suicidal_ideation": (
        "i want to die", "i wanna die", "i just want to die", "want to d1e", "i want to kill myself",
        "gonna kill my self tonight", "kms", "i kms fr", "im going to unalive myself", "thinking about ctb",
        "thinking about sewerslide", "suicidal", "feeling suicidial again", "sucide", "su1c1de thoughts",
        "i keep thinking about suicide", "i wish i was dead", "wish i were never born", "id rather be dead",
"better off dead", "im going to end my life",
        "i want to take my own life", "no reason to live anymore", "theres no point in living",
        "whats the point of living", "i have nothing to live for", "i dont want to live anymore",
        "dont want to be alive", "i dont wanna wake up tomorrow", "i hope i dont wake up", "going to hang myself",
        "i have a rope and a plan", "i bought a gun to shoot myself", "going to jump off the bridge",
        "gonna jump in front of a train", "im standing on the roof going to jump", "ready to die",
        "i deserve to die", "let me die", "tired of living", "so tired of being alive", "im done with life",
        "i cant go on", "cant go on like this", "i want to disappear forever", "i want to stop existing",
        "killmyself", "KILL MYSELF", "I WANT TO DIEEEE", "i feel like dying", "i think im dying",
        "want it all to end", "i just want the pain to stop", "i want everything to be over", "i want to sleep forever",
        "been thinking about killing myself", "thinking of ending my life", "im going to end myself",
        "life is not worth living", "tied a noose", "put a gun to my head", "i want to throw myself off the balcony",
        "gonna jump out the window", "i dont want to exist",
    ),
    "self_harm": (
        "i hurt myself again", "i want to hurt myself", "cut myself last night", "im cutting again",
        "i started cutting", "i burned myself on purpose", "keep hitting myself", "scratching my arms till they bleed",
        "self harm", "selfharm", "self-harming", "i relapsed on cutting",
        "i have a razor and i want to use it on my wrist",
        "harming myself", "i punished myself", "i want to cut my wrists", "carving into my skin",
        "i wanna hurt my self", "hurtin myself", "cuttin my thighs", "made myself bleed on purpose",
    ),
    "overdose": (
        "i took too many pills", "took all my pills", "i swallowed the whole bottle", "i od", "i think i oded",
        "OD'd on my meds", "overdosed", "i overdosed", "overdosing rn", "im going to take them all",
        "gonna take all of my meds", "i took a handful of pills", "took way too much", "i took double",
        "i took extra", "swallowed everything in the cabinet", "drank bleach", "i poisoned myself",
        "i took the entire bottle of tablets", "too many pills",
    ),
    "medical_emergency": (
        "i cant breathe", "cant breath", "can not breathe", "hard to breathe", "trouble breathing",
        "short of breath", "shortness of breath", "gasping for air", "my throat is closing", "choking",
        "chest pain", "my chest hurts so bad", "tight chest", "pressure in my chest", "chest is really tight",
        "i think im having a heart attack", "she had a stroke", "hes having a seizure", "seizing",
        "she passed out", "i think im going to pass out", "feel faint", "fainted", "he wont wake up",
        "cant wake her", "hes unresponsive", "hes not breathing", "shes not responding", "bleeding a lot",
        "i cant stop the bleeding", "theres blood everywhere", "coughing up blood", "call 911", "call an ambulance",
        "this is an emergency", "i collapsed", "im blacking out", "allergic reaction throat swelling",
        "breathing is hard", "can't catch my breath", "his lips are turning blue", "no pulse", "anaphylaxis",
        "shes convulsing", "hes fitting on the floor", "she's unconscious", "he's not responsive", "she wont respond",
        "i cant get him to wake up", "my husband isnt responding", "heavy bleeding", "im bleeding", "lots of blood",
        "im losing blood",
    ),
    "feeling_unsafe": (
        "i dont feel safe", "i don't feel safe right now", "not safe right now", "im not safe",
        "i dont think im safe tonight", "i cant keep myself safe", "not feeling safe", "i no longer feel safe",
        "unsafe", "i feel unsafe at home", "im in danger", "im a danger to myself", "i am not safe",
        "dont feel safe alone", "he is hurting me", "someone is threatening me", "i feel so unsafe rn",
        "not safe", "im not ok im not safe", "i dont feel safe being alone tonight", "noy safe", "scared for my life",
        "someone broke in", "i am being abused",
    ),
    "distress_call": (
        "help", "help me", "helpp", "heeelp", "HELP ME PLEASE", "please help", "someone help me",
        "i need help now", "need help asap", "i need help", "sos", "SOS", "s.o.s", "please someone",
        "someone please", "is anyone there", "anybody there", "save me", "pls help", "plz help me",
        "helpme", "i need someone right now", "come quick", "im so scared", "im terrified", "i feel helpless",
        "i cant breathe help", "halp", "help im scared", "somebody please", "mayday", "panicking please",
        "freaking out help", "im not okay", "not ok", "please call me right now", "i need to talk to someone",
        "i cant stop crying", "im losing my mind",
    ),
    "veiled_intent": (
        "i want to end it", "im going to end it all", "end it all", "ending it tonight", "i want to end things",
        "i wont be around much longer", "i wont be here tomorrow", "not going to be around for long",
        "i dont want to be here anymore", "everyone would be better off without me",
        "my family is better without me", "theyll be happier without me", "im a burden to everyone",
        "goodbye everyone", "goodbye forever", "bye everyone", "this is my last text", "my last message",
        "this is my final goodbye", "last time youll hear from me", "youll never hear from me again",
        "giving away my stuff", "i gave away my cat", "im giving my things away", "i wrote a note for my mom",
        "tell my kids i love them", "please take care of my dog", "everyone would be better off if i was dead",
        "i want to never wake up", "i see no way out", "i cant do this anymore", "i cant take it anymore",
        "cant keep going", "im giving up on life", "im done", "im so done", "whats the point",
        "what's the point anymore",
        "ready to leave this world", "see you on the other side", "i wont make it to morning", "end it",
        "endin it tonite", "goodbye", "saying my goodbyes", "when im gone take care of mom", "i made my will today",
        "i want to not be here", "giving it all away", "i want to go to sleep and not wake up",
        "im going to do it tonight", "i cant anymore", "nobody would miss me", "no one will care",
    ),
    "fear_of_acting": (
        "scared of what i might do", "im scared of what i might do", "afraid of what ill do tonight",
        "im afraid i'll hurt myself", "terrified i might do something", "im scared i will hurt myself",
        "i cant trust myself", "i dont trust myself tonight", "i cant control myself", "im losing control",
        "having urges again", "the urges are bad", "i have urges to cut", "tempted to take them all",
        "i might do something stupid", "im going to do something i regret", "the voices are telling me to do it",
        "thoughts of dying", "i keep thinking about dying", "dark thoughts", "intrusive thoughts about jumping",
        "scared of myself", "im scared to be alone with my thoughts tonight", "worried what i might do",
        "afraid ill do something stupid", "i dont trust my mind right now", "scared id hurt myself",
    ),
}

ORDINARY: tuple[str, ...] = (
    # check-in answers
    "7", "8", "mood 7", "7/10", "seven", "im a 6", "feeling ok 6", "7 none", "mood 6, a bit dizzy", "8/10 nausea",
    "seven, headache", "mood 7 sleep 6 none", "7, 5, a bit nauseous", "Mood: 8. Slept 9. headache", "6 6 tired",
    "128/82 yes", "bp 128 / 82, sitter here", "128 over 82 Y", "yes 131/79", "128 82 yes",
    "its 128/82 and my sister is with me",
    "yes", "no", "y", "n", "yep", "nope", "a bit nauseous", "tired but fine", "thanks!", "thank you", "ok", "okay",
    "my partner is here", "my sitter is here", "sitter here", "she's with me", "she'll be here in 10", "not yet",
    "killing it today 9", "9 killing it", "feeling great 9", "10 best ive felt", "5 meh", "6 ok i guess",
    "slept great", "slept badly 4", "mood 4 sleep 3 headache", "3 blood in my urine", "threw up 3 times 5",
    "a bit dizzy", "headache", "a little floaty after", "felt spacey for an hour", "all good", "nothing", "none",
    "no side effects", "fine", "im fine", "all fine here", "good", "feeling much better", "much calmer today",
    # everyday texts
    "thanks, see you tomorrow", "when does my package arrive", "can you reschedule my appointment",
    "what time is my call", "can you help me reschedule", "i need help with my account", "help with my login please",
    "thanks for your help", "that helped a lot", "the session was intense but good", "im tired", "im dead tired",
    "my phone died", "i ran 5 kms this morning", "my bill is overdue", "i overdid it at the gym", "kill time",
    "just killing time", "i killed it at work today", "killer workout", "this heat is killing me",
    "cut my hair today", "hurt my back", "end of the day is fine", "in the end things were fine", "seizing the day",
    "im going to jump in the shower", "going to jump on a call now", "took too much time", "it took too much effort",
    "my chest of drawers arrived", "my chest freezer is heavy", "need to catch my breath after the stairs",
    "breathe in breathe out", "is it safe to take with coffee", "i feel safe with my sister here",
    "safe and sound", "got home safe", "i passed the exam", "passing the time", "that's odd", "felt odd after",
    "my emergency contact changed", "lol", "haha same", "see you next week", "sounds good", "will do",
    "running a bit late", "on my way", "the link doesnt work", "can i move my session to friday",
    "what's the point of the follow up call", "the help page was useful", "no help needed thanks",
    "im done with the session", "done", "session done", "im ready to go", "ready when you are",
    "food poisoning last week but fine now", "stroke of luck today", "i have the urge to pee",
    "my dog is better without me at work lol", "goodnight", "good morning", "bye for now", "talk soon",
    "call me when you can", "please call me about my order", "who is this", "is this the clinic",
    "took too many photos lol", "im going to end things with my boyfriend", "ill pass out the flyers",
    "feeling faint praise lol", "my mom is here to help", "i feel safe", "felt safe the whole time",
    "can i end the session early", "i took a nap", "slept like the dead", "i can breathe again",
    "goodbye for now", "i dont know", "not sure", "mood 5, felt floaty and a bit sick", "cried a bit but felt good",
)

# Issue 12 §1, second review: the outside tester's misses (first in each intent) and new phrasings by
# intent: overdose quantities, the rest of the bottle, pills with alcohol, stockpiling; means (a gun, a rope,
# an edge); cutting too deep; blue lips, foaming, bleeding that will not stop; "not ok" inside a reply;
# giving up, "this is goodbye"; command voices; spelled-apart or starred letters ("k.m.s", "k*ll"); emoji.
SECOND_REVIEW: dict[str, tuple[str, ...]] = {
    "suicidal_ideation": (
        "im gonna off myself", "k.m.s", "wanna k*ll myself", "i found dads gun", "check out for good",
        "want it over", "8 none. honestly thinking its time to check out for good", "3 2 i want it over",
        "6 6 fine 🔫", "🔫💊", "s u i c i d e", "i want 2 dye", "128/82 yes i want to kill myself",
        "128/82 sitter here. i found dads gun", "going to off myself tonight", "k-m-s", "su*cide",
        "i bought a pistol today", "got my brothers rifle out", "loaded the gun", "holding a gun right now",
        "i have a noose ready", "standing on the edge of the roof", "sitting at the edge of the bridge",
        "ready to check out permanently", "i just want it all over", "wish this was all over", "🔪", "🪢", "⚰️",
        "7 🔫", "w4nt t0 d1e", "thinking of checking out for good", "i could off myself",
        "cleaning the gun thinking about it",
    ),
    "self_harm": (
        "cut too deep, cant stop it", "i cut really deep this time", "cutting so deep", "sliced too deep",
        "cut myself deep tonight", "i slashed deep", "i hurt my self with a blade", "been cutting again 5",
    ),
    "overdose": (
        "i took 20 pills", "i took 30 of them", "mixed all my pills with alcohol",
        "my sitter left and i took the rest of the bottle", "i stockpiled my pills",
        "mood 6 sleep 5. i stockpiled my pills", "took like 15 tabs", "i swallowed 40 of my sleeping pills",
        "popped twenty pills", "took a dozen of them", "i took 12 of my meds", "took the rest of my meds",
        "finished the rest of them", "drank the rest of it with the pills", "pills and vodka",
        "washed my meds down with whiskey", "took my sleeping pills with wine", "been saving up my pills",
        "hoarding my meds for weeks", "i have a stash of tablets", "saved enough pills", "💊💊💊", "💊🔫", "💊 💀",
        "gonna take 50 of them",
    ),
    "medical_emergency": (
        "my lips are blue", "shes foaming at the mouth", "his lips look blue", "her face is turning grey",
        "fingers going purple", "hes foaming from his mouth", "the bleeding wont stop", "blood wont stop",
        "bleeding doesnt stop", "his skin is blue", "6 lips r blue",
    ),
    "distress_call": (
        "7 but im not ok", "im really not okay tonight", "i feel not ok", "honestly im not alright",
        "5 im still not ok", "feeling not okay after the session",
    ),
    "veiled_intent": (
        "this is goodbye", "i give up", "no one cares whether im alive", "its goodbye", "here is my goodbye",
        "i give up on everything", "ive given up", "i just give up", "im giving up for good", "i gave up on life",
        "nobody cares if im dead", "no one would care if i died", "noone cares if i live",
        "nobody cares whether i exist", "this is the end",
    ),
    "fear_of_acting": (
        "voices say to jump", "the voices want me to die", "a voice keeps saying to hurt myself",
        "voices tell me to cut", "voice commanding me to jump", "voices said to do it",
    ),
}
CRISIS = {intent: texts + SECOND_REVIEW.get(intent, ()) for intent, texts in CRISIS.items()}
ORDINARY = ORDINARY + (
    "proud of myself today", "took 2 tablets as my doctor said", "i gave up coffee", "my lips are dry",
    "want it over quickly so i can rest lol", "checked out of the hotel", "cut my finger cooking, its fine",
    "took the rest of the day off", "the rest of it was fine", "voices in the hallway woke me",
    "i saved my receipt", "i found my keys", "cleaning the kitchen", "7 👍", "8 none 🙂",
    "the end of the movie was sad", "my blue shirt", "i give up on this puzzle",
    "not ok with the new time, can we move it",
)

CORPUS: tuple[tuple[str, str | None], ...] = tuple(
    [(text, intent) for intent, texts in CRISIS.items() for text in texts] + [(text, None) for text in ORDINARY])
