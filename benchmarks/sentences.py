"""20 English sentences of 10-14 words (11-14 segments with the final punctuation)."""

SENTENCES = [
    "The service at this small restaurant was friendly and the food arrived quickly.",
    "I expected a boring lecture but the speaker was funny and inspiring.",
    "The hotel room was dirty and the staff ignored every complaint.",
    "This phone has a great camera but the battery dies too fast.",
    "We loved the quiet beach although the water was a little cold.",
    "The plot is predictable and the acting feels flat and lifeless.",
    "My order arrived late, yet the support team fixed everything politely.",
    "The new update made the app slower and crashes happen every day.",
    "Honestly the soup was bland but the dessert was absolutely wonderful.",
    "The museum guide answered our questions with patience and real enthusiasm.",
    "Traffic was terrible this morning so I missed the important meeting.",
    "Her latest novel is a moving story about courage and family.",
    "The laptop is light and powerful, but the keyboard feels cheap.",
    "Nobody warned us that the concert would be cancelled at midnight.",
    "The coffee here is strong, fresh and cheaper than anywhere else.",
    "I regret buying these shoes because they hurt after one hour.",
    "The children enjoyed the park, especially the huge wooden playground.",
    "Customer support kept me waiting for hours and never solved anything.",
    "The garden looks beautiful in spring when all the flowers bloom.",
    "The movie started slowly but the ending was surprisingly powerful and clever.",
]
