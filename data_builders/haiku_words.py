"""Word banks for the shipped haiku data, written for this project (Apache-2.0).

The design keeps syllable counting out of everything the model must invent:

- Every word of a poem except the topic is one syllable (checked against CMUdict by the builder), so a line's
  length is its word count: line 2 is always seven words, line 3 always five.
- The topic's head noun (its last word: "hose" for "a garden hose") is copied from the request as line 1's first
  word, and line 1 is finished by one of the scene's five tails, chosen only by that word's syllable count k: the
  tail has 5 - k one-syllable words. Multi-word topics are in `haiku_topics.py`. Every scene drops words
  in the same order ("in the cold rain", "in the rain", "in rain", ", rain", nothing), so the one decision left, how
  many words follow the topic, is taken right after the topic is written and is the same for every scene.
- Lines 2 and 3 come from position-specific halves that fit any topic, so they never depend on the topic.
"""

from __future__ import annotations

from dataclasses import dataclass

# Training topics: plural or mass nouns that read naturally after "a haiku about". Every one has a single CMUdict
# pronunciation count of 1-5 syllables. No programming topic (the tutorial's "Write a haiku about programming" is
# an evaluation prompt), none shares its first five letters with a held-out topic, and none shares a word with a topic
# of the evaluation suite (so "submarines", "music", "clocks" and "machines" are gone).
TRAINING_TOPICS = """
cats dogs birds bees ants owls crows swans geese frogs toads fish whales seals sharks wolves foxes bears
deer mice rats moths snails slugs worms crabs clams hawks doves larks jays finches sparrows robins pigeons
ravens eagles falcons herons turtles lizards rabbits squirrels kittens puppies horses donkeys camels monkeys
tigers lions zebras llamas pandas koalas beavers otters badgers hedgehogs penguins parrots chickens roosters
butterflies fireflies spiders beetles crickets hornets lobsters oysters dolphins octopus elephants buffalo
kangaroos gorillas caterpillars alligators crocodiles salamanders armadillos flamingos mosquitoes trees leaves
roots seeds moss ferns reeds weeds grass pines oaks elms palms vines grapes plums pears limes figs nuts beans
peas corn wheat oats rice bread cheese milk tea soup eggs cake pie salt flowers roses tulips daisies
lilies orchids poppies lilacs cherries apples oranges peaches melons berries pumpkins carrots onions potatoes
tomatoes bananas avocados cucumbers strawberries blueberries raspberries watermelons pineapples coconuts
mushrooms olives walnuts almonds peanuts noodles pancakes waffles cookies biscuits sandwiches dumplings
chocolate coffee honey butter pepper cinnamon vanilla mountains rivers oceans valleys meadows forests deserts
islands beaches canyons glaciers waterfalls prairies jungles tundra swamps hills lakes ponds streams creeks
cliffs caves dunes rocks stones pebbles boulders sand clay mud dust clouds storms thunder lightning rainbows
sunsets sunrise twilight moonlight starlight sunshine shadows silence echoes winter summer autumn
springtime weather hurricanes tornadoes blizzards icicles snowflakes raindrops puddles houses cottages castles
temples bridges towers gardens orchards kitchens attics cellars balconies windows doorways hallways staircases
chimneys fences gates roofs walls barns sheds tents cabins lighthouses harbors airports stations
highways sidewalks alleys markets bakeries theaters hospitals schools classrooms playgrounds
villages cities suburbs neighborhoods boats ships trains planes cars bikes buses trucks wagons
sailboats canoes bicycles motorcycles rockets balloons kites sleds skates bells lamps
candles lanterns mirrors pillows blankets curtains carpets chairs tables benches ladders buckets baskets
bottles kettles forks knives plates bowls jars boxes envelopes letters postcards paintings sculptures statues
pottery umbrellas sweaters mittens scarves boots shoes hats gloves buttons ribbons necklaces bracelets
diamonds pearls coins wallets keys locks doors books poems stories novels songs dancing singing painting
reading writing cooking baking fishing hiking camping swimming sailing climbing running walking knitting
sewing drawing travel journeys friendship childhood memories dreams wishes promises secrets laughter kindness
patience courage honesty freedom justice wisdom knowledge science mathematics astronomy chemistry physics
geography biology philosophy democracy economics architecture medicine literature poetry language grammar
numbers pianos guitars drums flutes trumpets trombones harps accordions saxophones orchestras concerts
melodies lullabies symphonies birthdays holidays weddings funerals picnics parades festivals carnivals
vacations weekends mornings evenings afternoons midnight noon breakfast lunch dinner supper dessert teachers
doctors nurses farmers sailors soldiers builders painters dancers singers poets writers artists bakers
fishermen grandmothers grandfathers mothers fathers sisters brothers children babies neighbors strangers
pilgrims astronauts firefighters carpenters planets comets meteors galaxies asteroids
satellites telescopes magnets batteries engines televisions radios telephones
escalators helicopters refrigerators celebration conversation meditation inspiration education imagination
graduation generation evolution revolution invitation decoration destination exploration construction
competition civilization curiosity electricity university opportunity personality vocabulary biography geology
ecology anatomy psychology loneliness happiness sadness gratitude forgiveness solitude nostalgia serenity
harmony melancholy tranquility adventure mystery beauty darkness brightness sorrow grief joy hope fear love
peace rest sleep time age youth ladybugs scorpions porcupines jellyfish barnacles manatees pelicans cardinals
canaries albatross oregano spaghetti lasagna tortillas burritos macaroni pepperoni zucchini espresso
cappuccino yogurt popcorn crackers cereal oatmeal omelets horizons cinemas yesterday tomorrow anniversaries
calendars factories laboratories cafeterias apartments pyramids monuments fountains aquariums observatories
greenhouses bungalows pavilions cemeteries comedy tragedy fiction energy gravity memory liberty dignity
charity poverty industry tapestries porcelain furniture dictionaries magazines newspapers gymnastics athletics
aerobics basketball volleyball baseball football badminton tennis hockey soccer marathons olympics origami
calligraphy thunderstorms wilderness countryside coastline underwater everglades migration pollination
hibernation germination condensation precipitation constellations navigation transportation population
vegetation irrigation cultivation relaxation motivation concentration determination appreciation communication
kindergarten retirement adolescence economy mythology zoology geometry algebra arithmetic calculus statistics
linguistics creativity generosity hospitality community humanity humility simplicity complexity sincerity
eternity infinity reality identity activity ability emergency ceremony testimony matrimony territory inventory
rhinoceros tangerines
""".split()

# Held-out topics: never in training, and sharing no five-letter stem with a training topic or a poem word.
HELDOUT_TOPICS = """
ghosts queens goats knights socks maps dice spoons quilts thieves chess skunks scones clowns
software keyboards pirates wizards dragons mermaids vampires tractors lockers zippers pencils crayons bubbles
giraffes turkeys jackets puzzles muffins scarecrows pretzels
programming computers typewriters detectives dominoes acrobats magicians pajamas iguanas cathedrals avalanche
dinosaurs volcanoes lemonade marshmallows
algorithms aviation diplomacy ballerinas thermometers insomnia eucalyptus mahogany interruption
archaeology auditorium hippopotamus documentaries
""".split()

# Stems (first five letters, as the topic scorer matches them) that must never be a training topic.
PROGRAMMING_STEMS = ("progr", "compu", "softw", "codin", "code", "algor", "keybo", "debug", "robot", "techn", "data")

PROMPT_TEMPLATES = (
    "Write a haiku about {topic}.",
    "Write a haiku about {topic}",
    "write a haiku about {topic}",
    "Compose a haiku about {topic}.",
    "Compose a haiku on {topic}.",
    "Can you write me a haiku about {topic}?",
    "Could you compose a haiku about {topic}?",
    "Please write a haiku about {topic}.",
    "I'd love a haiku about {topic}.",
    "Give me a haiku about {topic}.",
    "Write me a short haiku about {topic}.",
    "A haiku about {topic}, please.",
    "haiku about {topic}",
    "Write a 5-7-5 haiku about {topic}.",
    "Create a haiku about {topic}.",
    "Share a haiku about {topic}.",
    "Let's hear a haiku about {topic}.",
    "Write a haiku on the subject of {topic}.",
    "Make up a haiku about {topic}.",
    "Pen a haiku about {topic}.",
    "I need a haiku about {topic}.",
    "Could I get a haiku about {topic}?",
    # The evaluation suite's phrasings, never with a suite topic (the builder refuses a request equal to a suite prompt).
    "Compose a haiku about {topic}",
    "Please write a haiku about {topic}",
    "Can you write a haiku about {topic}?",
    "I'd like a haiku about {topic}.",
    "Write me a haiku about {topic}.",
    "Haiku time: write one about {topic}.",
    "Write a short haiku about {topic}",
)


@dataclass(frozen=True)
class Scene:
    """One setting: line 1's tails by topic syllable count, and the halves that build lines 2 and 3.

    `tails[n]` has n one-syllable words, so a k-syllable topic takes `tails[5 - k]` (the one-word tail after a comma,
    so that "caterpillars, rain" does not read as a verb). Line 2 is a four-word clause, then a
    three-word place; line 3 is a two-word image, a comma, and a three-word close.
    """

    name: str
    tails: tuple[str, str, str, str, str]  # by word count: "", ", rain", "in rain", "in the rain", "in the cold rain"
    places: tuple[str, ...]
    clauses: tuple[str, ...]
    images: tuple[str, ...]
    closes: tuple[str, ...]


def _scene(name: str, *, adjective: str, preposition_k3: str, **banks: str) -> Scene:
    """Tails in the shared drop order, longest first: adjective, then article, then preposition, then the scene word."""
    tails = ("", f", {name}", f"{preposition_k3} {name}", f"in the {name}", f"in the {adjective} {name}")
    return Scene(name, tails, **{key: tuple(v.strip() for v in text.split("/")) for key, text in banks.items()})


SCENES = (
    _scene(
        "rain",
        adjective="cold",
        preposition_k3="in",
        places="on the roof / by the gate / on the stones / down the glass / in the street / through the leaves / on the pond",
        clauses="drops tap all night / gray clouds hang low / wet leaves cling tight / a bell rings once / the pond fills up"
        " / the streets shine black / crows shake their wings",
        images="warm tea / cold hands / damp coats / wet boots / dry feet / slow steps",
        closes="a warm cup / the house still / one lamp lit / a long wait / the world soft / and then sleep",
    ),
    _scene(
        "snow",
        adjective="deep",
        preposition_k3="in",
        places="on the hill / by the fence / in the yard / through the woods / on the pines / at the door / on the lake",
        clauses="the world goes white / soft flakes drift down / tracks fill and fade / a crow calls twice"
        " / the cold bites deep / the stream runs slow / no sound at all",
        images="cold breath / red cheeks / warm gloves / thick coats / bare trees / white fields",
        closes="a warm glow / the long hush / the stars sharp / a slow thaw / and then night / all is still",
    ),
    _scene(
        "wind",
        adjective="west",
        preposition_k3="in",
        places="through the grass / on the hill / in the pines / past the barn / on the sea / through the door"
        " / down the lane",
        clauses="dry leaves spin round / a kite pulls hard / the gate bangs shut / the reeds bow low / loose clouds race by"
        " / a hat blows off / the sails fill out",
        images="cold ears / wild hair / loose leaves / tall grass / bent trees / gray waves",
        closes="then calm falls / dust in eyes / a long sigh / the dark sea / a thin song / the door shut",
    ),
    _scene(
        "mist",
        adjective="gray",
        preposition_k3="in",
        places="on the lake / by the shore / in the fields / through the trees / on the bridge / at the dock / in the vale",
        clauses="the hills fade out / a boat drifts past / the far bank sleeps / a loon calls out / the road goes soft"
        " / shapes come and go / the trees stand still",
        images="damp air / soft shapes / pale light / slow oars / wet grass / cool skin",
        closes="the world small / a slow dawn / no one near / then the sun / a faint bell / the path lost",
    ),
    _scene(
        "dawn",
        adjective="pale",
        preposition_k3="at",
        places="on the hill / by the sea / through the blinds / on the fields / at the pond / in the east / on the roofs",
        clauses="the first birds sing / the sky turns pink / gold light spills out / the night lets go / dew drops shine bright"
        " / the stars fade out / a dog wakes up",
        images="fresh bread / warm milk / cool air / wet grass / new light / first steps",
        closes="the day waits / a fresh start / the world wakes / a clean page / a deep breath / a bird sings",
    ),
    _scene(
        "dusk",
        adjective="blue",
        preposition_k3="at",
        places="on the road / by the barn / through the trees / on the lake / in the town / on the porch / at the edge",
        clauses="bats dart and dip / the lamps come on / the sky burns red / the cows walk home / a dog barks twice"
        " / the hills go dark / the last bus leaves",
        images="long shade / warm stones / sore feet / soft light / cool air / low sun",
        closes="then the stars / the day done / a slow walk / the door closed / and then rest / the moon climbs",
    ),
    _scene(
        "night",
        adjective="still",
        preposition_k3="at",
        places="on the hill / by the lake / in the house / on the street / through the pines / in the sky / at the well",
        clauses="the stars burn bright / an owl calls out / a dog dreams on / the moon climbs high / the clock ticks slow"
        " / a train goes by / the town sleeps sound",
        images="dark glass / cool sheets / deep sleep / soft breath / one lamp / black trees",
        closes="the world hushed / a long dream / then the dawn / no one wakes / the tide turns / a warm bed",
    ),
    _scene(
        "sun",
        adjective="warm",
        preposition_k3="in",
        places="on the beach / by the pool / in the park / on the deck / on the rocks / in the field / by the wall",
        clauses="the sand burns hot / the bees drone on / a cat sprawls out / the heat hangs still / the wheat stands tall"
        " / the ice melts fast / kids run and shout",
        images="bare feet / cold drinks / straw hats / bright sky / slow days / warm skin",
        closes="the long noon / a cool breeze / then some shade / the sea near / a short nap / the world gold",
    ),
    _scene(
        "frost",
        adjective="white",
        preposition_k3="in",
        places="on the glass / on the grass / in the yard / by the path / on the gate / on the fields / at the pond",
        clauses="each blade shines white / the ground is hard / a jay hops by / breath hangs like smoke / the sun climbs slow"
        " / the world stands still / the old dog sleeps",
        images="numb hands / crisp air / stiff boots / cold nose / pale sky / thin ice",
        closes="a hot drink / the day bright / the stove warm / a clear sky / then the thaw / all things sharp",
    ),
    _scene(
        "bloom",
        adjective="first",
        preposition_k3="in",
        places="by the stream / in the yard / on the bough / through the fields / in the woods / on the hill / by the road",
        clauses="the buds burst out / the lambs leap up / the streams run full / the birds build nests / the plum trees bloom"
        " / green shoots push through / the mud grows soft",
        images="warm rain / fresh grass / new leaves / soft soil / bright wings / sweet air",
        closes="the world young / a first bud / and then more / the days long / the bees hum / the light back",
    ),
    _scene(
        "shade",
        adjective="cool",
        preposition_k3="in",
        places="by the wall / near the well / on the porch / in the grove / by the stream / on the bench / in the lane",
        clauses="the cat lies flat / the leaves hang still / a fan turns slow / the dogs lie down / the stones keep cool"
        " / a bee drifts past / old men play cards",
        images="cool stone / cold tea / long naps / green light / still air / soft moss",
        closes="the heat gone / a long rest / the noon slow / time stands still / no one moves / a deep sleep",
    ),
)
