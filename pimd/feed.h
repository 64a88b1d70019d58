/* GET /v1/channels/{channel}/feed.xml?locale=: a Google Merchant RSS 2.0
 * feed of the products published to a channel, streamed page by page.
 * Each item carries the attributes the feed specification requires (id,
 * title, description, link, image_link, availability, price); a product
 * that lacks a title, an image or a price in the channel's currency is left
 * out and counted in a comment at the end of the feed.
 */
#ifndef PIM_FEED_H
#define PIM_FEED_H

#include <stddef.h>

#include "http.h"

extern const struct http_route pim_feed_routes[];
extern const size_t pim_feed_nroutes;

#endif
