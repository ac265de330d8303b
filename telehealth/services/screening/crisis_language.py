"""Crisis language in a patient's text, found by intent rather than by a list of whole phrases.

Pure functions over the text of one inbound SMS: no database, no Flask, no HTTP, no clock.

    detect_crisis(text: str) -> bool
        Run it on EVERY inbound SMS, before any other parsing, whatever the message was expected
        to answer. False positives are acceptable, false negatives are not.
    crisis_intents(text: str) -> list[str]
        The intent categories the text matches (names of INTENTS, in their order); [] for none.

A list of phrasings tuned to a test set always misses the next phrasing, so detection is built from
INTENTS: for each category (suicidal ideation, self-harm, overdose, medical emergency, feeling
unsafe, a call for help, veiled intent, fear of acting on an urge) a few patterns over word stems,
with gaps of a few words where people put words in between ("i dont really feel safe"). Patterns
are regular expressions over the normalised words joined by single spaces, written in plain
spelling (their letters are collapsed like the text's), with these shorthands:

    {GAP}   up to three words        {GAP1} up to one word      {GAP2} up to two words
    {NEG}   not, dont, never, cant, wont, no longer, isnt...    {SELF} myself, me
    {WANT}  want, wish, going, ready, plan, need, trying...     {FEAR} scared, afraid, terrified...

Normalisation (`normalise`): accents, case and punctuation dropped, apostrophes removed ("don't" ->
"dont"), digits inside a word read as letters ("d1e", "su1c1de"), texting forms spelled out ("kms",
"unalive", "ctb", "kys" -> kill myself / yourself; "od" -> overdose; "wanna" -> want to; "pls" ->
please; "sum1" -> someone; "rn" -> right now; "2" between words -> to...), letters repeated in a row
collapsed ("heeelp" -> "help", "kill" -> "kil" on both sides), words run together split when their
parts are words of the patterns ("killmyself", "notsafe", "helpme"), and a word of 5 letters or
more one edit away from a pattern word read as that word ("sucide", "myslef", "unresponsve"),
unless it is an ordinary word listed in NEVER_FUZZY ("putting", "changing", "joking"...).

Letters spelled apart or starred ("k.m.s", "s u i c i d e", "k*ll") are joined first, and emoji of a
means or of death become words the patterns know (🔫 emojigun, 💊 emojipil, 🪢 🔪 ⚰️ 💀): a weapon or
rope alone fires, pills only beside another.

There is no negation: "not suicidal" fires. A few ordinary senses are told apart inside the
patterns by the exact words around them ("going to jump in the shower", "took too much time",
"in the end things were fine", "help with my account", "scared of the dentist"). Everything else
that reads like a crisis fires; a clinician reads it. The labelled corpus in tests/screening/crisis_corpus.py
is the measure (`make bench`, group `crisis`, prints recall and precision); recall must stay 100%.
"""
from __future__ import annotations

import re
from functools import lru_cache

from telehealth.services.platform.wording import collapse_repeats as _collapse
from telehealth.services.platform.wording import distance_at_most_one as _distance_at_most_one
from telehealth.services.platform.wording import fold as _fold
from telehealth.services.platform.wording import words as _words

_SHORTHANDS = {
    "GAP": r"(?:[a-z0-9]+ ){0,3}",
    "GAP1": r"(?:[a-z0-9]+ )?",
    "GAP2": r"(?:[a-z0-9]+ ){0,2}",
    "NEG": r"(?:not|dont|do not|never|cant|wont|no longer|isnt|arent|aint|didnt|doesnt|no|nt|havent|wasnt)",
    "SELF": r"(?:myself|my self|me)",
    "WANT": r"(?:want|wanted|wanting|wish|wished|ready|going|plan|planning|planned|need|trying|try|tried|decided|"
            r"deserve|rather|should|could|would|gonna|about|like|hope|hoping|thinking|thought|think)",
    "ORDINARY_WITH": r"with (?:my (?:boyfriend|girlfriend|partner|husband|wife|ex|bf|gf|job)|him|her|them"
                     r"|the (?:company|gym|clinic|program))",
    "FEAR": r"(?:scared|scary|afraid|terrified|frightened|worried|fear|fearful|nervous|panicking)",
}

# Each category: patterns, most telling first. See the module docstring for the shorthands.
INTENTS: dict[str, tuple[str, ...]] = {
    "suicidal_ideation": (
        r"suicid\w*", r"kill (?:myself|my self|me|yourself|urself)", r"(?:killing|killed) (?:myself|yourself)",
        r"end (?:my|my own) life",
        r"ending (?:my|my own) life", r"(?:take|taking|took) my (?:own )?life", r"{WANT} {GAP}die",
        r"(?:let|make) me die", r"end (?:myself|me)",
        r"(?:wish|want|rather|better) {GAP}(?:dead|never born|not born|wasnt born)",
        r"better off dead", r"(?:hope|wish|pray\w*) {GAP2}(?:dont|never|wont|not) wake up",
        r"(?:rope|noose|gun|pills|knife|razor|blade|bridge|ledge)\w* {GAP}(?:plan|ready|tonight|do it)",
        r"(?:im|i am|am i) dying", r"fe\w* like {GAP}dying",
        r"no (?:reason|point|purpose) {GAP}(?:live|living|life|alive|going on|go on|exist\w*|being here)",
        r"point (?:in|of|to) (?:living|life|being alive|going on)", r"(?:nothing|no one|nobody) to live for",
        r"not worth (?:living|it anymore|being alive)",
        r"{NEG} {GAP2}(?:want|wanna|wish) {GAP2}(?:live|living|alive|exist\w*|wake up|be here anymore|be here)",
        r"(?:hang|shoot|drown|stab|poison|suffocate|strangle|gas|electrocute)\w* (?:myself|my self)",
        r"noose", r"gun to my head", r"jump\w* (?:off|from|in front)", r"throw (?:myself|me) (?:off|in front|under)",
        r"(?:going|about|want|ready|gonna) to jump(?! (?:in|into|on) (?:the |a |my )?(?:shower|bath|pool|car|bed|call"
        r"|zoom|phone|it|line|board)| (?:to conclusions|for joy|rope|ahead|start|the gun))",
        r"jump (?:out|out of) (?:the|a|my) window", r"(?:slit|cut|slash)\w* my (?:wrists|wrist|throat)",
        r"tired of (?:living|life|being alive|existing|being here)", r"done with (?:life|living|existing|it all)",
        r"(?:cant|cannot) go on", r"(?:disappear|sleep|gone) forever", r"(?:leave|leaving) this world",
        r"(?:wish|want) {GAP}(?:disappear|not exist|stop existing)",
        r"(?:want|wish|need) (?:it|this|everything|the pain|life|all of this) (?:all )?to (?:end|stop|be over)",
        r"dont want to exist",
        r"(?:going to|want to|about to|ready to|should|could|will|might|just|gona) off (?:myself|my self)", r"(?:check|checking|checked) out (?:for good|permanently|of (?:life|this world))",
        r"(?:want|wish|need) (?:it|this|everything|life|it all) (?:was |were |to be )?(?:all )?over(?! (?:with|quick\w*"
        r"|soon|fast|already))",
        r"(?:found|have|got|bought|buying|buy|get|getting|holding|hold|loaded|loading|grabbed|hid|hiding|took|cleaning)"
        r" {GAP2}(?:gun|guns|pistol|rifle|shotgun|firearm|revolver|noose)s?(?! (?:show|range|safety|class|license))",
        r"(?:standing|stood|sitting|sat|on) (?:on |at )?(?:the )?(?:edge|ledge) of",
        r"(?:emojigun|emojiknife|emojirope|emojicofin|emojigrave)",
    ),
    "self_harm": (
        r"(?:hurt|harm|cut|burn|hit|punch|scratch|starve|punish|injure|stab|bruise)\w* {GAP1}(?:myself|my self)",
        r"(?:cut|burn|scratch|slash|carv)\w* {GAP1}my (?:arm|arms|wrist|wrists|legs|skin|thigh|thighs|stomach|body)",
        r"self ?(?:harm|injur|hurt)\w*", 
        r"(?:razor|razors|blade|blades) (?:[a-z0-9]+ ){0,8}(?:myself|skin|arm|arms|wrist|wrists|leg|legs|thigh|thighs)",
        r"cutting (?:again|myself)", r"(?:started|start|relapse\w*) {GAP1}(?:cutting|self harm\w*|burning)",
        r"(?:bleed|bleeding) {GAP1}on purpose",
        r"(?:cut|cutting|sliced|slashed)\w* {GAP1}(?:too |really |so )?deep",
    ),
    "overdose": (
        r"overdos\w*", r"(?:too many|too much|a handful of|handfuls of|a bunch of) (?:pills|tablets|meds|of my meds)",
        r"(?<!it )(?<!that )(?<!this )(?<!which )(?:took|taken|take|taking|swallow|swallowed|ate|eaten|popped|downed)"
        r" (?:way )?(?:too many|too much)(?! (?:time|of (?:your|my|his|her|their) time|long|effort|space|room|out of"
        r"|money|energy|work|photos|pictures|selfies|naps|breaks))",
        r"(?:took|taken|take|taking|swallow|swallowed|ate|popped|downed|going to take|gonna take) {GAP1}(?:them all"
        r"|all of them|all (?:of )?(?:my|the|these|those) (?:pills|tablets|meds|medicine|bottle)|all my|all of my"
        r"|the whole"
        r" (?:bottle|pack|box|packet|thing)|the entire (?:bottle|pack|box)|a whole bottle|everything i have"
        r"|all at once)",
        r"(?:took|taken|take|taking) (?:extra|double)(?! (?:time|care|shift|shifts|nap|naps|long|effort|day|days))",
        r"swallow\w* (?:them|all|it all|everything|the whole)", r"(?:whole|entire) (?:bottle|pack|packet) of",
        r"(?<!food )poison\w*",
        r"(?:drank|drink|drinking|swallowed|ate) (?:some |a bottle of )?(?:bleach|antifreeze|poison|drain cleaner"
        r"|detergent)",
        r"(?:took|taken|take|taking|swallowed|swallow|ate|popped|downed|had|gonna take|going to take) {GAP1}"
        r"(?:[5-9]|[1-9][0-9]+|twenty|thirty|forty|fifty|a dozen|dozens|hundreds) {GAP1}(?:pills|tablets|tabs|meds"
        r"|capsules|caps|of them|of those|of these|of my|sleeping)",
        r"(?:took|taken|take|taking|swallowed|ate|downed|finished|drank) {GAP1}(?:the )?rest of (?:(?:the|my) (?:bottle"
        r"|pills|tablets|meds|medication|medicine|pack|box|prescription)|them|those|it(?! (?:off|out|easy)))",
        r"(?:pills|tablets|meds|medication|medicine|sleeping pils) {GAP2}(?:with|and|plus|washed down with) {GAP1}"
        r"(?:alcohol|vodka|wine|whiskey|whisky|booze|liquor|beer|tequila|rum|gin)",
        r"(?:stockpil|hoard|stash|sav|colect|stor)\w* {GAP1}(?:up )?(?:my |the |all my |enough )?(?:pills|tablets|meds"
        r"|medication|doses|sleeping)",
        r"emojipil {GAP1}emojipil", r"emojipil {GAP}(?:emojigun|emojiknife|emojirope|emojicofin|emojigrave|emojiskul)",
    ),
    "medical_emergency": (
        r"(?:cant|cannot|couldnt|hard to|trouble|struggl\w* to|difficulty|barely|not|stopped|isnt|wasnt|no longer"
        r"|cant stop) {GAP1}breath\w*(?! (?:in|out))",
        r"short\w* of breath\w*", r"breath\w* (?:trouble|problem|problems|difficult\w*|is hard|is difficult)",
        r"gasp\w* for (?:air|breath)", r"(?:cant|cannot) (?:get|catch) {GAP1}(?:air|breath)",
        r"choking", r"turning blue", r"no pulse", r"throat (?:is )?(?:closing|swelling|tight)", r"anaphyla\w*",
        r"allergic reaction",
        r"chest (?:(?:is|feels|felt|was|keeps|so|really|very|getting|super|too|kinda|bit|all|all of a sudden) )*"
        r"(?:pain|pains|hurt\w*|tight\w*|pressure|heavy|ach\w*|crush\w*|squeez\w*)",
        r"(?:tight\w*|pressure|pain|pains|heavy|heaviness|crushing) {GAP1}(?:in|on) my chest",
        r"(?:tight|heavy|crushing) chest", r"heart attack", r"stroke(?! of (?:luck|genius|midnight))", r"seizure\w*",
        r"seizing(?! (?:the|this|that|an|every))", r"convuls\w*", r"fitting on the floor",
        r"(?:passed|pass|passing) out(?! (?:the|these|those|flyers|papers))",
        r"(?:going|gonna|about) to (?:faint|pass out)",
        r"(?:feel|feeling|felt) (?:so |really |very )?faint(?! praise)", r"(?:fainted|fainting)", r"black\w* out",
        r"unconscious", r"unresponsive", r"not responsive", r"collapsed",
        r"(?:cant|wont|cannot|not|isnt) {GAP1}(?:wake|waking|rouse)", r"wont respond",
        r"(?:cant|cannot|couldnt) get (?:him|her|them) to (?:wake|respond)",
        r"(?:he|she|they|hes|shes|theyre|he is|she is|partner|husband|wife|son|daughter|sitter|mom|dad|friend|baby)"
        r" {GAP1}(?:not|isnt|wont|cant) (?:respond\w*|mov\w*|breath\w*)", r"isnt responding",
        r"bleed\w* (?:a lot|alot|heavily|badly|bad|really bad|so much|everywhere|out|nonstop)",
        r"(?:wont|cant|cannot) stop {GAP1}bleed\w*", r"heavy bleeding", r"(?:im|is|hes|shes|i am|theyre) bleeding",
        r"(?:lots of|a lot of|alot of|so much) blood", r"blood everywhere", r"losing blood",
        r"(?:coughing|vomiting|throwing|puking) (?:up )?blood", r"call 911", r"911", r"ambulance",
        r"emergency(?! contact)",
        r"(?:lips|lip|face|skin|fingers|fingertips|nails) {GAP1}(?:are |is |look |looks |turning |went |gone |so |r )?"
        r"(?:blue|grey|gray|purple)", r"foam\w* (?:at|from) (?:the|his|her|my|their) mouth",
        r"(?:bleeding|blood) {GAP1}(?:wont|will not|doesnt|does not|isnt|not|cant) stop\w*",
    ),
    "feeling_unsafe": (
        r"unsafe", r"{NEG} {GAP2}safe(?! to (?:take|eat|drink|drive|use|mix|combine|shower|exercise|fly))",
        r"in danger", r"danger to (?:myself|me|others|someone)", r"(?:fear|scared|afraid) for my (?:life|safety)",
        r"(?:he|she|they|someone|somebody) {GAP1}(?:hurt|hit|hitting|hurting|attack\w*|threaten\w*|beat\w*|chok\w*)"
        r" me", r"(?:someone|somebody) (?:broke in|is following|is outside|is here)",
        r"(?:being|been|getting) (?:abused|attacked|threatened)",
    ),
    "distress_call": (
        r"(?<!the )(?<!your )(?<!for )(?<!no )(?<!any )(?<!here to )help"
        r"(?! (?:me |us )?(?:(?:with|on|for) (?:[a-z]+ ){0,2}"
        r"(?:account|app|login|log in|password|appointment|booking|order|payment|bill|billing|package|schedule"
        r"|shipment|settings|calendar|card|call|time|link|video|refund|insurance|email|address|phone|number"
        r"|delivery|form|question|questions|page|site|website|portal|reminder|reminders|texts|code)"
        r"|(?:to )?(?:find|understand|reschedule|book|change|cancel|log|sign|set|figure|fix|reset|update|pay|order)"
        r"|desk|center|centre|page|text|keyword|section|menu|button|article))",
        r"helpless", r"sos", r"mayday", r"save me", r"please {GAP1}(?:someone|somebody|anyone|anybody)",
        r"(?:someone|somebody|anyone|anybody) {GAP1}(?:please|help|there|out there|come|call 911|hear me)",
        r"(?:need|want) (?:someone|somebody|you|a person|a human) (?:now|right now|asap|here)",
        r"come (?:quick|now|fast|right now|asap|please)",
        r"(?:im|i am|i feel|feeling|feel|so) (?:so |really |very |super |too )?(?:scared|terrified|frightened)"
        r"(?! (?:of|about) (?!what|myself|me|my self|my thoughts|my mind|dying|death|being alone))",
        r"(?:panic|panicking) (?:please|help|now|right now)",
        r"^(?:im |i am |i feel |feeling )?(?:really |so |very )?not (?:ok|okay|alright|al right)(?: at all| right now)?$",
        r"(?:im|i am|i feel|feeling|feel|am|i m) (?:really |so |very |just |still |actually |honestly )?not (?:ok|okay"
        r"|alright|al right)(?! with)",
        r"call me (?:right now|now|asap|urgently|immediately)",
        r"(?:need|want) to talk to (?:someone|somebody|anyone|a person|a human)(?: (?:now|right now|asap|please"
        r"|tonight))?$", r"(?:cant|cannot) stop (?:crying|shaking|panicking|screaming)", r"losing my mind", r"(?:freaking|freak) out (?:help|please|now)",
    ),
    "veiled_intent": (
        r"(?<!the )(?<!at the )end (?:it|it all|everything|things|this|my suffering|the pain|the suffering)"
        r"(?! (?:call|session|meeting|subscription|chat|conversation|thread|early|there|here|{ORDINARY_WITH}))",
        r"ending (?:it|it all|everything|things|this)(?! (?:call|session|meeting|subscription|{ORDINARY_WITH}))",
        r"(?:wont|not|never|no longer) {GAP}(?:around|here|alive) (?:much |for |very )?(?:longer|long|anymore"
        r"|any more|tomorrow|after tonight|next week|by morning)",
        r"(?:dont|do not|not) want to be (?:around|here|alive)(?: anymore| any more)?$",
        r"want to not be (?:around|here|alive)", r"better off without me", r"better {GAP}without me",
        r"(?:happier|easier|fine|ok|okay|better|good) without me",
        r"(?:when|after|once|if) (?:im|i was|i were|i am) (?:dead|gone)",
        r"(?:im|i am|being) (?:such )?a burden", r"burden (?:to|on) (?:everyone|you|my|them|others|everybody)",
        r"(?:goodbye|godbye|bye|farewell) (?:everyone|everybody|all|world|forever|for good|cruel|my friends|to all"
        r"|to everyone|for ever)",
        r"^(?:goodbye|farewell)$", r"(?:say|saying|said) (?:my )?(?:goodbye|goodbyes|bye)",
        r"(?:my|the|this is my|its my) (?:last|final) (?:text|message|msg|goodbye|words|night|day)",
        r"(?:last|final) time you {GAP1}(?:hear|here) from me", r"(?:wont|never) (?:hear|here) from me",
        r"(?:giving|give|gave|given) (?:away )?(?:all )?(?:of )?my (?:stuff|things|belongings|possessions|pets|pet"
        r"|cat|dog|clothes|money|stuff away|things away)",
        r"(?:giving|give|gave|given) away (?:all|everything|my)",
        r"(?:giving|give|gave|given) (?:it all|everything|all my stuff|all my things) away",
        r"(?:wrote|writing|written|left|leave|leaving) (?:a |my )?(?:suicide )?(?:note|letter)s? (?:for|to)",
        r"tell {GAP}i (?:love|loved) them", r"take care of my (?:kids|children|family|dog|cat|pets|babies|mom)",
        r"never (?:wake|waking) up", r"(?:and|to) (?:not|never) wake up",
        r"(?:going to|gonna|ready to|about to|decided to|plan to|planning to) do it (?:tonight|today|now|soon)",
        r"(?:cant|cannot) (?:do it )?(?:anymore|any more)$",
        r"(?:nobody|no one|noone) (?:would|will|wil|wld|wud) (?:miss|care|notice)", r"no way out", r"(?:cant|cannot) (?:escape|take|do|handle|live with|live like)"
        r" (?:this|it|life|any of this)? ?(?:anymore|any more|no more|much longer)",
        r"(?:cant|cannot) keep (?:going|doing this|living)", r"giving up on (?:life|everything|myself|living)",
        r"(?:im|i am|ive) (?:so )?done(?: with (?:everything|it all|life|this|living|all of it|everyone|all this))?$",
        r"(?:whats|what is|wats|what) the point(?: (?:anymore|any more|of (?:anything|it all|living|life|going on"
        r"|trying|me|being here|even trying)))?$",
        r"ready to (?:die|leave (?:this world|everyone|for good)|be gone|end it|go for good)",
        r"see you on the other side", r"(?:wont|dont|not) (?:see|make it to) (?:tomorrow|the morning|morning)",
        r"(?:make|made|making|settle\w*|sort\w*) (?:my|out my) (?:will|affairs|final arrangements)",
        r"(?:this is|its|it is|heres|here is) (?:my )?(?:goodbye|the end)$", r"this is goodbye",
        r"(?:i|ive|im|i have|i just) (?:just |totally |completely |officially |finally )?(?:give|given|giving|gave) up"
        r"(?: (?:on (?:life|everything|myself|living|it all|me|trying|getting better)|everything|trying|completely"
        r"|for good))?$",
        r"(?:nobody|no one|noone) (?:cares|would care|will care|care|gives a damn) (?:if|whether) (?:im|i) {GAP1}"
        r"(?:alive|dead|live|die|here|gone|exist)",
    ),
    "fear_of_acting": (
        r"{FEAR} {GAP2}(?:of )?what (?:i|ill|id|im|i will|i would) {GAP2}do",
        r"{FEAR} {GAP2}(?:i|ill|id|i will|i might|i may|i could|im going to|i would) {GAP1}(?:hurt|harm|kill|do"
        r" something|act on|snap|lose it|lose control|end)",
        r"{FEAR} (?:of|for) (?:myself|my self|my thoughts|my mind|my urges)",
        r"{FEAR} {GAP1}to be (?:alone|by myself|on my own) {GAP1}(?:tonight|right now|with my thoughts)",
        r"(?:cant|cannot|dont|do not|no longer) trust (?:myself|my self|my mind|my thoughts)",
        r"(?:cant|cannot|couldnt) control (?:myself|my self|my thoughts|my urges|it)",
        r"(?:losing|lose|lost) control(?! of (?:the|my) (?:car|bike|account|budget|schedule))",
        r"(?<!no )urges?(?! to (?:pee|urinate|go|eat|sleep|poop|use the|snack|shop|buy))",
        r"(?:impulse|impulses|tempted|temptation) {GAP}(?:to|of) {GAP1}(?:hurt|harm|cut|die|kill|end|jump|take|od"
        r"|overdose|do it)",
        r"(?:might|could|may|going to|gonna|will|about to) do something (?:stupid|bad|dumb|drastic|crazy|terrible"
        r"|dangerous|i regret|i ll regret|permanent)",
        r"(?:voice|voices) {GAP}(?:telling|tell|tells|told|saying) me to",
        r"(?:voice|voices) {GAP1}(?:say|says|said|saying|tell|tells|want|wants|keep saying|command\w*|order\w*)"
        r" (?:me )?to (?:jump|die|kil|hurt|cut|end|do it|stab|drown|burn|take)",
        r"thoughts? (?:of|about) (?:dying|death|ending|killing|hurting|not being here|being dead|self harm)",
        r"(?:dark|intrusive|scary|bad) thoughts", r"(?:keep|keeps|cant stop) (?:thinking|imagining) about (?:dying"
        r"|death|ending|killing|hurting|jumping)",
    ),
}

# Texting forms, looked up on folded words BEFORE repeated letters are collapsed (so "odd" is not
# taken for "od"): one word -> its spelled-out form.
ABBREVIATIONS = {
    "kms": "kill myself", "kmsf": "kill myself", "kys": "kill yourself", "unalive": "kill myself",
    "unaliving": "killing myself", "unalived": "killed myself", "ctb": "kill myself", "sewerslide": "suicide",
    "sui": "suicide", "wtd": "want to die", "od": "overdose", "oded": "overdosed", "oding": "overdosing",
    "ded": "dead", "dyin": "dying", "livin": "living", "endin": "ending", "killin": "killing",
    "wanna": "want to", "wana": "want to", "wnna": "want to", "wnt": "want", "gonna": "going to",
    "gunna": "going to", "gona": "going to", "finna": "going to", "goin": "going", "gotta": "got to",
    "tryna": "trying to", "ima": "im going to", "imma": "im going to", "iam": "im", "u": "you", "ur": "your",
    "noy": "not", "nkt": "not", "youll": "you will", "cnt": "cant", "cannot": "cant", "dnt": "dont", "nt": "not",
    "ntg": "nothing", "myslf": "myself", "meself": "myself", "slf": "self", "pls": "please", "plz": "please",
    "plez": "please", "pleas": "please", "smone": "someone", "evryone": "everyone", "rn": "right now",
    "tonite": "tonight", "tmrw": "tomorrow", "hlp": "help", "halp": "help", "hepl": "help", "hlep": "help",
    "lyf": "life", "idk": "i dont know", "idc": "i dont care", "wud": "would", "wld": "would", "cud": "could",
    "cld": "could", "shud": "should", "bc": "because", "cuz": "because", "coz": "because", "msg": "message",
    "txt": "text", "gbye": "goodbye", "goodby": "goodbye", "dye": "die",
}
# Texting forms with digits in them, replaced in the folded text before it is split into words.
_DIGIT_FORMS = {
    "sum1": "someone", "some1": "someone", "any1": "anyone", "every1": "everyone", "evry1": "everyone",
    "no1": "no one", "2nite": "tonight", "2night": "tonight", "2day": "today", "2moro": "tomorrow",
    "bye4ever": "bye forever", "4ever": "forever", "b4": "before", "l8r": "later", "gr8": "great",
}
# Emoji of a means or of death, read as words the patterns know ("🔫💊", "6 6 fine 🔫").
_EMOJI_WORDS = {"🔫": "emojigun", "🔪": "emojiknife", "🗡": "emojiknife", "🪢": "emojirope", "⚰": "emojicofin",
                "🪦": "emojigrave", "💊": "emojipil", "💀": "emojiskul", "☠": "emojiskul"}
_DIGIT_FORM = re.compile(r"(?<![a-z0-9])(" + "|".join(_DIGIT_FORMS) + r")(?![a-z0-9])")
# Pairs of words read as one.
_PAIRS = {("i", "am"): "im", ("i", "m"): "im", ("my", "self"): "myself", ("can", "not"): "cant",
          ("do", "not"): "dont", ("will", "not"): "wont", ("i", "od"): "i overdosed",
          ("i", "odd"): "i overdosed", ("just", "odd"): "just overdosed", ("good", "bye"): "goodbye",
          ("any", "more"): "anymore"}

# Ordinary words one edit away from a pattern word: never taken for it.
NEVER_FUZZY = frozenset(_collapse(w) for w in (
    "overdone overdoes overdue overused overdid overdo painted painting paint drying dyeing lying strike strokes "
    "stoke sized seized seize chess suite suites subconscious responsive sending pending lending bending mending "
    "tending vending giving diving loving liking sizing walking making taking baking putting getting setting "
    "sitting letting meeting changing banging ranging joking cooking smoking poking pumping dumping bumping "
    "brown crown drawn grown frown strange pleased flood breed surges purges shallow letter bitter butter matter "
    "latter better there three where alike hunting hitting fitting wetting betting mind kind hello hells shell "
    "smell spell sleep steep sweep thank thanks think thing things thong heart heard hears health wealth safer "
    "sale same game came name lame fame help held hell herb hemp helm kelp yelp whelp sofa soda "
    "lives loves lived liver river alive olive aloe along alone among "
    "chest chess crest "
    "never fever lever sever seven eleven every "
    "dizzy dizzily "
    "tired tried tires fired hired wired "
    "ended bended tender sender lender vendor "
    "fainted painter panted "
    "scarred scared sacred scarce "
    "goodbye godbye thats whats "
    "saving saved saves stored storing hoarding stash stashed").split())


def _vocabulary_of(sources: list[str]) -> frozenset[str]:
    words: set[str] = set()
    for source in sources:
        for match in re.finditer(r"(?<![a-z\\])[a-z]{2,}(?![a-z])", source):
            if not source.startswith(r"\w*", match.end()):
                words.add(match.group())
    return frozenset(words)


def _compile(source: str) -> re.Pattern:
    expanded = source
    for name, value in _SHORTHANDS.items():
        expanded = expanded.replace("{" + name + "}", value)
    # letters are collapsed and words spaced; a group never follows letters, so every word is whole
    if "\\b" in expanded or "\\s" in expanded or re.search(r"[a-z]\((?:\?:)?[a-z]", expanded):
        raise ValueError(f"crisis pattern {source!r}: no \\b or \\s, and whole words only inside groups")
    expanded = re.sub(r"(?<!\\)([a-z])\1+", r"\1", expanded)
    expanded = re.sub(r"\(\?<!([a-z ]+ )\)", r"(?<!(?<![a-z])\1)", expanded)  # "not after the word the"
    return re.compile(rf"(?<![a-z0-9])(?:{expanded})(?![a-z0-9])")


_COMPILED: dict[str, tuple[re.Pattern, ...]] = {
    intent: tuple(_compile(p) for p in patterns) for intent, patterns in INTENTS.items()}
VOCABULARY = _vocabulary_of([p.pattern for patterns in _COMPILED.values() for p in patterns]) | frozenset(
    _collapse(w) for w in (
        "suicide suicidal overdose overdosed overdosing seizure seizures unresponsive breathe breathing myself "
        "yourself someone somebody anyone anybody everyone tonight forever goodbye around without pills tablets "
        "bleeding wrists razor scared afraid terrified frightened control thoughts".split()))
_FUZZY_TARGETS = tuple(sorted(w for w in VOCABULARY if len(w) >= 5))


def _spelled_out(words: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(words):
        pair = (words[i], words[i + 1]) if i + 1 < len(words) else None
        if pair in _PAIRS:
            out.extend(_PAIRS[pair].split())
            i += 2
            continue
        word = words[i]
        if word == "kms" and out and out[-1].isdigit():
            out.append("kilometres")
        elif word in ("2", "4") and out and out[-1].isalpha() and i + 1 < len(words) and words[i + 1].isalpha():
            out.append("to" if word == "2" else "for")
        else:
            out.extend(ABBREVIATIONS.get(word, word).split())
        i += 1
    return out


@lru_cache(maxsize=8192)
def _split_joined(word: str) -> tuple[str, ...] | None:
    """A word run together from two or three pattern words ("killmyself", "notsafe"): its parts."""
    if len(word) < 5 or word in VOCABULARY or not word.isalpha():
        return None
    for i in range(2, len(word) - 1):
        head, tail = word[:i], word[i:]
        if head not in VOCABULARY:
            continue
        if tail in VOCABULARY:
            return (head, tail)
        for j in range(2, len(tail) - 1):
            if tail[:j] in VOCABULARY and tail[j:] in VOCABULARY:
                return (head, tail[:j], tail[j:])
    return None


@lru_cache(maxsize=8192)
def _corrected(word: str) -> str:
    """A word of 5 letters or more one edit away from a pattern word, read as that word."""
    if len(word) < 5 or word in VOCABULARY or word in NEVER_FUZZY or not word.isalpha():
        return word
    for target in _FUZZY_TARGETS:
        if abs(len(target) - len(word)) <= 1 and _distance_at_most_one(word, target):
            return target
    return word


def normalise(text: str) -> str:
    """The text as single-spaced words, ready for the INTENTS patterns. See the module docstring."""
    folded = _fold(text or "")
    leet = {"1": "i", "3": "e", "0": "o", "@": "a", "$": "s", "5": "s", "4": "a"}
    folded = _DIGIT_FORM.sub(lambda m: _DIGIT_FORMS[m.group()], folded)
    folded = re.sub(r"(?<=[a-z])[1305@$4](?=[a-z])", lambda m: leet[m.group()], folded)  # "d1e" -> "die"
    for emoji, word in _EMOJI_WORDS.items():  # "🔫" -> "emojigun"
        folded = folded.replace(emoji, f" {word} ")
    folded = re.sub(r"(?<=[a-z])[*#]+(?=[a-z])", "i", folded)  # "k*ll" -> "kill", "su*cide" -> "suicide"
    # letters spelled apart: "k.m.s", "k-m-s", "s u i c i d e" (four letters or more when spaced)
    folded = re.sub(r"(?<![a-z0-9])[a-z](?:[.*_-]+[a-z](?![a-z0-9])){1,}\.?",
                    lambda m: m.group().replace(".", "").replace("*", "").replace("_", "").replace("-", "")
                    if m.group().rstrip(".") != "o.d" else m.group(), folded)
    folded = re.sub(r"(?<![a-z0-9])[a-z](?: [a-z](?![a-z0-9])){3,}", lambda m: m.group().replace(" ", ""), folded)
    folded = re.sub(r"\bo\s*\.\s*d\s*\.?", " od ", folded)  # "O.D." -> "od"
    folded = re.sub(r"\bod\s*'\s*(?:e?d)\b", " overdosed ", folded)  # "OD'd", "od'ed"
    folded = re.sub(r"\bs\s*\.\s*o\s*\.\s*s\b\.?", " sos ", folded)  # "S.O.S."
    words = [_collapse(w) for w in _spelled_out(_words(folded, collapse=False))]
    out: list[str] = []
    for word in words:
        parts = _split_joined(word)
        out.extend(parts if parts else [_corrected(word)])
    return " ".join(out)


def crisis_intents(text: str) -> list[str]:
    """The INTENTS categories `text` reads as, in their order; [] when none."""
    if not text:
        return []
    normal = normalise(text)
    return [intent for intent, patterns in _COMPILED.items() if any(p.search(normal) for p in patterns)]


def detect_crisis(text: str) -> bool:
    """True when an inbound SMS reads like a crisis of any category of INTENTS."""
    if not text:
        return False
    normal = normalise(text)
    return any(p.search(normal) for patterns in _COMPILED.values() for p in patterns)
